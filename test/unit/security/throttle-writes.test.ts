// src/security/throttle.ts and the store's writes (issue 18): before the
// check, the card's count and the address's at once (a locked card gives
// the address its point back); after the check, both writes at once, so a
// sign-in waits for two rounds of store writes, not four, and a store that
// commits the writes of one moment together commits twice.
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { describe, expect, it } from 'vitest';
import { Throttle } from '../../../src/security/throttle.ts';
import { MemoryStore } from '../../../src/store/memory.ts';
import type { LimiterOptions, Store } from '../../../src/store/store.ts';

const CONFIG = {
  card: { delayAfter: 5, lockAfter: 10, window: 900, lock: 900 },
  address: { lockAfter: 30, window: 900, lock: 900 },
  deviceCookie: { days: 180, lockAfter: 5 },
};

// A memory store whose limiter writes take a few milliseconds, noting how
// many are in flight at once.
function slowStore() {
  const memory = new MemoryStore();
  const writes = { inFlight: 0, most: 0, log: [] as string[] };
  const slow = (limiter: RateLimiterAbstract, name: string): RateLimiterAbstract =>
    new Proxy(limiter, {
      get(target, key) {
        const value = Reflect.get(target, key, target);
        if (!['consume', 'reward', 'delete', 'penalty'].includes(String(key))) return value;
        return async (...args: unknown[]) => {
          writes.inFlight++;
          writes.most = Math.max(writes.most, writes.inFlight);
          writes.log.push(`${String(key)} ${name}`);
          try {
            await new Promise((resolve) => setTimeout(resolve, 5));
            return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          } finally {
            writes.inFlight--;
          }
        };
      },
    });
  const store = new Proxy(memory, {
    get(target, key) {
      if (key === 'limiter')
        return async (options: LimiterOptions) => slow(await target.limiter(options), options.keyPrefix);
      const value = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as Store;
  return { store, writes, close: () => memory.close() };
}

describe('throttle: store writes per attempt', () => {
  it('counts card and address before the check, at once', async () => {
    const { store, writes, close } = slowStore();
    const throttle = new Throttle(store, CONFIG);
    const decision = await throttle.attempt({ card: 'c', address: 'a' });
    expect(decision.kind).toBe('go');
    expect(writes.log.sort()).toEqual(['consume throttle_address', 'consume throttle_card']);
    expect(writes.most).toBe(2);
    await close();
  });

  it('does not spend the address on a locked card: its point comes back', async () => {
    const { store, close } = slowStore();
    const throttle = new Throttle(store, CONFIG);
    for (let i = 0; i < CONFIG.card.lockAfter; i++) await throttle.attempt({ card: 'c', address: `other-${i}` });
    const locked = await throttle.attempt({ card: 'c', address: 'a' });
    expect(locked).toMatchObject({ kind: 'locked', scope: 'card' });
    const limiter = await store.limiter({
      keyPrefix: 'throttle_address',
      points: 30,
      duration: 900,
      blockDuration: 900,
    });
    expect((await limiter.get('a'))?.consumedPoints ?? 0).toBe(0);
    await close();
  });

  it('writes the success (card starts again, address point back) in one round', async () => {
    const { store, writes, close } = slowStore();
    const throttle = new Throttle(store, CONFIG);
    for (let i = 0; i < 3; i++) await throttle.attempt({ card: 'c', address: 'a' });
    const decision = await throttle.attempt({ card: 'c', address: 'a' });
    if (decision.kind !== 'go') throw new Error('expected go');
    writes.log.length = 0;
    writes.most = 0;
    await throttle.succeeded(decision.ticket);
    expect(writes.log.sort()).toEqual(['delete throttle_card', 'reward throttle_address']);
    expect(writes.most).toBe(2);
    // The same counts as before: the card from zero, the address at its
    // three wrong guesses.
    const next = await throttle.attempt({ card: 'c', address: 'a' });
    expect(next.kind === 'go' && next.delayMs).toBe(0);
    const address = await (
      await store.limiter({
        keyPrefix: 'throttle_address',
        points: 30,
        duration: 900,
        blockDuration: 900,
      })
    ).get('a');
    expect(address?.consumedPoints).toBe(4);
    await close();
  });

  it('gives both points back for an outage in one round too', async () => {
    const { store, writes, close } = slowStore();
    const throttle = new Throttle(store, CONFIG);
    const decision = await throttle.attempt({ card: 'c', address: 'a' });
    if (decision.kind !== 'go') throw new Error('expected go');
    writes.most = 0;
    await throttle.refund(decision.ticket);
    expect(writes.most).toBe(2);
    await close();
  });
});
