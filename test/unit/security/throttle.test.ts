import { describe, expect, it } from 'vitest';
import { Throttle } from '../../../src/security/throttle.ts';
import { MemoryStore } from '../../../src/store/memory.ts';
import { fakeClock } from '../../conformance/store.suite.ts';

const CONFIG = {
  card: { delayAfter: 5, lockAfter: 10, window: 900, lock: 900 },
  address: { lockAfter: 30, window: 900, lock: 900 },
};

function setup() {
  const clock = fakeClock();
  const store = new MemoryStore({ now: clock.now });
  return { clock, store, throttle: new Throttle(store, CONFIG, { now: clock.now, delayStepMs: 1000 }) };
}

describe('throttle', () => {
  it('slows a card after 5 failures with growing delays, then locks it after 10', async () => {
    const { throttle } = setup();
    const delays: number[] = [];
    for (let i = 0; i < 10; i++) {
      const d = await throttle.check('card-a', `addr-${i}`);
      expect(d.kind).toBe('go');
      if (d.kind === 'go') delays.push(d.delayMs);
      await throttle.failed('card-a', `addr-${i}`);
    }
    expect(delays).toEqual([0, 0, 0, 0, 0, 1000, 2000, 4000, 8000, 8000]);
    expect(await throttle.check('card-a', 'addr-new')).toEqual({ kind: 'locked', scope: 'card', retryAfter: 900 });
    expect(await throttle.check('card-b', 'addr-new')).toEqual({ kind: 'go', delayMs: 0 });
  });

  it('keeps the lock for its period, then lets the card try again from zero', async () => {
    const { throttle, clock } = setup();
    for (let i = 0; i < 10; i++) await throttle.failed('card-a', 'addr');
    clock.advance(899_000);
    expect(await throttle.check('card-a', 'other')).toMatchObject({ kind: 'locked', retryAfter: 1 });
    clock.advance(1_000);
    expect(await throttle.check('card-a', 'other')).toEqual({ kind: 'go', delayMs: 0 });
  });

  it('forgets a card’s failures after a success', async () => {
    const { throttle } = setup();
    for (let i = 0; i < 7; i++) await throttle.failed('card-a', 'addr');
    expect(await throttle.check('card-a', 'addr')).toMatchObject({ delayMs: 4000 });
    await throttle.succeeded('card-a');
    expect(await throttle.check('card-a', 'addr')).toEqual({ kind: 'go', delayMs: 0 });
  });

  it('refuses an address spraying one PIN over many cards, but not a few cards from one address', async () => {
    const { throttle } = setup();
    for (let i = 0; i < 2; i++) await throttle.failed(`card-${i}`, 'library-pc');
    expect(await throttle.check('card-9', 'library-pc')).toEqual({ kind: 'go', delayMs: 0 });
    for (let i = 0; i < 30; i++) await throttle.failed(`spray-${i}`, 'attacker');
    expect(await throttle.check('card-fresh', 'attacker')).toEqual({
      kind: 'locked',
      scope: 'address',
      retryAfter: 900,
    });
    expect(await throttle.check('card-fresh', 'library-pc')).toEqual({ kind: 'go', delayMs: 0 });
  });

  it('counts only keyed hashes: the store never sees what it is given beyond the key', async () => {
    const { throttle, store } = setup();
    await throttle.failed('k1', 'a1');
    expect(await store.find('Throttle', 'card:k1')).toEqual({ n: 1 });
    expect(await store.find('Throttle', 'address:a1')).toEqual({ n: 1 });
  });
});
