// The throttle's promise under any interleaving: attempts start in random
// order and the backend answers them in random order (fast-check's
// scheduler), with wrong PINs, right PINs and outages mixed over a few cards
// and addresses. Whatever happens, no more than `card.lockAfter` wrong PINs
// per card reach the backend between two successes of that card, and no
// more than `address.lockAfter` per address.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Throttle } from '../../../src/security/throttle.ts';
import { MemoryStore } from '../../../src/store/memory.ts';

const CONFIG = {
  card: { delayAfter: 100, lockAfter: 3, window: 900, lock: 900 },
  address: { lockAfter: 5, window: 900, lock: 900 },
  deviceCookie: { days: 180, lockAfter: 2 },
};

type Outcome = 'wrong' | 'right' | 'unavailable';
// Few cards over few addresses stress the card bound; many cards from one
// address stress the address bound.
const SHAPES = [
  { cards: 3, addresses: 3 },
  { cards: 12, addresses: 1 },
];
const attemptArb = (shape: (typeof SHAPES)[number]) =>
  fc.record({
    card: fc.integer({ min: 0, max: shape.cards - 1 }),
    address: fc.integer({ min: 0, max: shape.addresses - 1 }),
    device: fc.option(fc.integer({ min: 0, max: 1 }), { nil: undefined }),
    outcome: fc.constantFrom<Outcome>('wrong', 'wrong', 'wrong', 'right', 'unavailable'),
  });

interface Check {
  card: number;
  address: number;
  // what the attempt was counted on: the card, or a device cookie (a spent
  // cookie falls back to the card)
  on: string;
  outcome: Outcome;
}

describe('throttle (property)', () => {
  it.each(SHAPES)(
    'bounds the PIN checks per card, per device cookie and per address under random interleavings (%o)',
    async (shape) => {
      await fc.assert(
        fc.asyncProperty(
          fc.scheduler(),
          fc.array(attemptArb(shape), { minLength: 1, maxLength: 60 }),
          async (s, attempts) => {
            const store = new MemoryStore();
            const throttle = new Throttle(store, CONFIG, { delayStepMs: 0 });
            const checks: Check[] = [];
            const run = async (a: (typeof attempts)[number]) => {
              const d = await throttle.attempt({
                card: `card-${a.card}`,
                address: `addr-${a.address}`,
                // a device cookie is only ever valid for its own card
                device: a.device === undefined ? undefined : `device-${a.card}-${a.device}`,
              });
              if (d.kind === 'locked') return;
              checks.push({ card: a.card, address: a.address, on: d.ticket.subject.key, outcome: a.outcome });
              const outcome = await s.schedule(Promise.resolve(a.outcome), `backend ${JSON.stringify(a)}`);
              if (outcome === 'right') await throttle.succeeded(d.ticket);
              if (outcome === 'unavailable') await throttle.refund(d.ticket);
            };
            const all = Promise.all(attempts.map((a) => s.schedule(Promise.resolve(a), 'start').then(run)));
            await s.waitFor(all);
            await store.close();

            const count = (pick: (c: Check) => boolean) => checks.filter(pick).length;
            // A card (or cookie) starts again after a success on it.
            const counters = Array.from({ length: shape.cards }, (_, c) => c).flatMap((c) => [
              { key: `card-${c}`, limit: CONFIG.card.lockAfter },
              { key: `device-${c}-0`, limit: CONFIG.deviceCookie.lockAfter },
              { key: `device-${c}-1`, limit: CONFIG.deviceCookie.lockAfter },
            ]);
            for (const { key, limit } of counters) {
              const wrong = count((c) => c.on === key && c.outcome === 'wrong');
              const right = count((c) => c.on === key && c.outcome === 'right');
              expect(wrong, key).toBeLessThanOrEqual(limit * (1 + right));
            }
            for (let address = 0; address < shape.addresses; address++) {
              expect(count((c) => c.address === address && c.outcome === 'wrong')).toBeLessThanOrEqual(
                CONFIG.address.lockAfter,
              );
            }
          },
        ),
        { numRuns: 200 },
      );
    },
  );
});
