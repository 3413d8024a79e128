import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { Throttle, type ThrottleDecision } from '../../../src/security/throttle.ts';
import { MemoryStore } from '../../../src/store/memory.ts';
import { SqliteStore } from '../../../src/store/sqlite.ts';
import type { Store } from '../../../src/store/store.ts';

const CONFIG = {
  card: { delayAfter: 5, lockAfter: 10, window: 900, lock: 900 },
  address: { lockAfter: 30, window: 900, lock: 900 },
  deviceCookie: { days: 180, lockAfter: 5 },
};

const dir = mkdtempSync(join(tmpdir(), 'patronym-throttle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const stores: [string, () => Store][] = [
  ['memory', () => new MemoryStore()],
  ['sqlite', () => new SqliteStore(join(dir, `t${n++}.sqlite`))],
];

const go = (d: ThrottleDecision) => {
  if (d.kind !== 'go') throw new Error(`expected go, got ${JSON.stringify(d)}`);
  return d;
};

describe.each(stores)('throttle on the %s store', (_name, open) => {
  let store: Store;
  function setup() {
    store = open();
    return new Throttle(store, CONFIG, { delayStepMs: 1000 });
  }
  afterEach(async () => {
    vi.useRealTimers();
    await store.close();
  });

  it('slows a card after 5 attempts with growing delays, then locks it after 10, right PIN or not', async () => {
    const throttle = setup();
    const delays: number[] = [];
    for (let i = 0; i < 10; i++) delays.push(go(await throttle.attempt({ card: 'a', address: `addr-${i}` })).delayMs);
    expect(delays).toEqual([0, 0, 0, 0, 0, 1000, 2000, 4000, 8000, 8000]);
    expect(await throttle.attempt({ card: 'a', address: 'new' })).toEqual({
      kind: 'locked',
      scope: 'card',
      retryAfter: 900,
    });
    expect(go(await throttle.attempt({ card: 'b', address: 'new' })).delayMs).toBe(0);
  });

  it('lets through at most lockAfter of 200 parallel attempts on one card, and slows the burst', async () => {
    const throttle = setup();
    const decisions = await Promise.all(
      Array.from({ length: 200 }, (_, i) => throttle.attempt({ card: 'a', address: `addr-${i}` })),
    );
    const through = decisions.filter((d) => d.kind === 'go');
    expect(through).toHaveLength(10);
    expect(decisions.filter((d) => d.kind === 'locked' && d.scope === 'card')).toHaveLength(190);
    // the delays were decided by the count each attempt got, not at zero
    expect(through.map((d) => d.delayMs).sort((x, y) => x - y)).toEqual([0, 0, 0, 0, 0, 1000, 2000, 4000, 8000, 8000]);
  });

  it('lets through at most address.lockAfter of 200 parallel attempts from one address, without spending the cards', async () => {
    const throttle = setup();
    const decisions = await Promise.all(
      Array.from({ length: 200 }, (_, i) => throttle.attempt({ card: `card-${i}`, address: 'sprayer' })),
    );
    expect(decisions.filter((d) => d.kind === 'go')).toHaveLength(30);
    expect(decisions.filter((d) => d.kind === 'locked' && d.scope === 'address')).toHaveLength(170);
    // A card refused at the address was never checked: its count is untouched.
    const refusedCard = decisions.findIndex((d) => d.kind === 'locked');
    for (let i = 0; i < 10; i++) go(await throttle.attempt({ card: `card-${refusedCard}`, address: `elsewhere-${i}` }));
  });

  it('starts a card again after a success and gives the address its point back', async () => {
    const throttle = setup();
    for (let i = 0; i < 7; i++) go(await throttle.attempt({ card: 'a', address: 'pc' }));
    const right = go(await throttle.attempt({ card: 'a', address: 'pc' }));
    expect(right.delayMs).toBe(4000);
    await throttle.succeeded(right.ticket);
    expect(go(await throttle.attempt({ card: 'a', address: 'pc' })).delayMs).toBe(0);
    // 8 points on the address, one refunded: 30 - 8 more fit.
    const more = await Promise.all(
      Array.from({ length: 30 }, (_, i) => throttle.attempt({ card: `c${i}`, address: 'pc' })),
    );
    expect(more.filter((d) => d.kind === 'go')).toHaveLength(22);
  });

  it('gives the points back when the backend did not answer', async () => {
    const throttle = setup();
    for (let i = 0; i < 30; i++) {
      await throttle.refund(go(await throttle.attempt({ card: 'a', address: 'pc' })).ticket);
    }
    expect(go(await throttle.attempt({ card: 'a', address: 'pc' })).delayMs).toBe(0);
  });

  it('counts a browser with a device cookie on the cookie: it gets past the card lock with its own budget', async () => {
    const throttle = setup();
    for (let i = 0; i < 10; i++) go(await throttle.attempt({ card: 'a', address: `guesser-${i}` }));
    expect(await throttle.attempt({ card: 'a', address: 'home' })).toMatchObject({ kind: 'locked', scope: 'card' });
    // the owner's browser: five tries of its own, in parallel or not
    const owner = await Promise.all(
      Array.from({ length: 8 }, () => throttle.attempt({ card: 'a', address: 'home', device: 'cookie-1' })),
    );
    expect(owner.filter((d) => d.kind === 'go')).toHaveLength(5);
    // then the cookie is ignored: the card's lock applies again
    expect(await throttle.attempt({ card: 'a', address: 'home', device: 'cookie-1' })).toMatchObject({
      kind: 'locked',
      scope: 'card',
    });
    // another browser of the owner still has its own budget; its success
    // resets the cookie's count and leaves the guesser locked
    const other = go(await throttle.attempt({ card: 'a', address: 'home', device: 'cookie-2' }));
    await throttle.succeeded(other.ticket);
    expect(await throttle.attempt({ card: 'a', address: 'guesser-x' })).toMatchObject({ kind: 'locked' });
  });

  it('keeps the address lock for device cookies too', async () => {
    const throttle = setup();
    for (let i = 0; i < 30; i++) go(await throttle.attempt({ card: `spray-${i}`, address: 'nat' }));
    expect(await throttle.attempt({ card: 'a', address: 'nat', device: 'cookie-1' })).toMatchObject({
      kind: 'locked',
      scope: 'address',
    });
    // and the refused attempt did not spend the cookie's budget
    for (let i = 0; i < 5; i++) go(await throttle.attempt({ card: 'a', address: `x${i}`, device: 'cookie-1' }));
  });

  it('keeps the lock for its period, then lets the card try again from zero', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const throttle = setup();
    for (let i = 0; i < 10; i++) go(await throttle.attempt({ card: 'a', address: `addr-${i}` }));
    expect(await throttle.attempt({ card: 'a', address: 'other' })).toMatchObject({ kind: 'locked', retryAfter: 900 });
    vi.setSystemTime(Date.now() + 899_000);
    expect(await throttle.attempt({ card: 'a', address: 'other' })).toMatchObject({ kind: 'locked', retryAfter: 1 });
    vi.setSystemTime(Date.now() + 1_001);
    expect(go(await throttle.attempt({ card: 'a', address: 'other' })).delayMs).toBe(0);
  });

  it('stores only the keys it is given (keyed hashes), under its own prefixes', async () => {
    const throttle = setup();
    go(await throttle.attempt({ card: 'k1', address: 'a1' }));
    const card = await store.limiter({ keyPrefix: 'throttle_card', points: 10, duration: 900, blockDuration: 900 });
    expect((await card.get('k1'))?.consumedPoints).toBe(1);
  });
});
