// The recorder keeps a second of sign-ins in memory and writes each
// (day, library, vendor) record once per flush: on the real SQLite and
// memory stores, with the store's update calls counted by a thin wrapper.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.ts';
import { deserialise, type Observation, observe, serialise } from '../../../src/stats/hyperloglog.ts';
import { PeriodKeys } from '../../../src/stats/period-keys.ts';
import { asDayRecord, type DayRecord, dayModel, StatsRecorder } from '../../../src/stats/recorder.ts';
import { MemoryStore } from '../../../src/store/memory.ts';
import { SqliteStore } from '../../../src/store/sqlite.ts';
import type { Payload, Store } from '../../../src/store/store.ts';

const dir = mkdtempSync(join(tmpdir(), 'patronym-recorder-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const START = Date.UTC(2026, 10, 29, 10);
const DAY_ID = '2026-11-29';
const account = (i: number) => `account-id-${i}-${'x'.repeat(30)}`;

let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

// The store as it is, with its update calls counted (and, while `failing`,
// refused as a store that lost its database would).
function counting(store: Store) {
  const state = { updates: 0, failing: false };
  const wrapped = new Proxy(store, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (prop === 'update') {
        return (...args: Parameters<Store['update']>) => {
          state.updates++;
          if (state.failing) return Promise.reject(new Error('store: database is gone'));
          return target.update(...args);
        };
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store: wrapped, state };
}

function logLines() {
  const lines: { msg: string; event?: string }[] = [];
  const log = createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { log, lines };
}

function sqlite(name: string, clock: { t: number }) {
  const store = new SqliteStore(join(dir, name), { now: () => clock.t });
  const keys = new PeriodKeys(store, () => clock.t);
  cleanup.push(async () => {
    keys.close();
    await store.close();
  });
  return { store, keys };
}

async function dayRecord(store: Store, library: string, vendor: string, day = DAY_ID): Promise<DayRecord | undefined> {
  const payload = await store.find(dayModel(day.slice(0, 7)), JSON.stringify([day, library, vendor]));
  return payload ? asDayRecord(payload) : undefined;
}

// The algorithm before batching: one update per sign-in, written out here
// as it was, to compare the batched records with.
function addSignIn(current: Payload | undefined, key: object, inDay: Observation, inMonth: Observation): DayRecord {
  const before = current ? asDayRecord(current) : undefined;
  return {
    ...(key as { day: string; library: string; vendor: string }),
    signIns: (before?.signIns ?? 0) + 1,
    dayPatrons: serialise(deserialise(before?.dayPatrons).add(inDay)),
    monthPatrons: serialise(deserialise(before?.monthPatrons).add(inMonth)),
  };
}

describe('the statistics recorder', () => {
  it('writes each (day, library, vendor) record once per flush, whatever the number of sign-ins', async () => {
    const clock = { t: START };
    const { store, keys } = sqlite('once.sqlite', clock);
    const { store: counted, state } = counting(store);
    const recorder = new StatsRecorder(counted, keys, 800);
    cleanup.push(() => recorder.close());
    await Promise.all(Array.from({ length: 50 }, (_, i) => recorder.record('springfield', `v${i % 2}`, account(i))));
    expect(state.updates).toBe(0);
    await recorder.flush();
    expect(state.updates).toBe(2);
    expect((await dayRecord(store, 'springfield', 'v0'))?.signIns).toBe(25);
    expect((await dayRecord(store, 'springfield', 'v1'))?.signIns).toBe(25);
    // Nothing pending: a flush writes nothing.
    await recorder.flush();
    expect(state.updates).toBe(2);
    for (let i = 0; i < 10; i++) await recorder.record('springfield', 'v0', account(i));
    await recorder.flush();
    expect(state.updates).toBe(3);
    expect((await dayRecord(store, 'springfield', 'v0'))?.signIns).toBe(35);
  });

  it('writes what one update per sign-in would have written, flushed at any points (random inputs)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ patron: fc.nat(300), vendor: fc.constantFrom('a', 'b'), flush: fc.boolean() }), {
          minLength: 1,
          maxLength: 80,
        }),
        async (signIns) => {
          const clock = { t: START };
          const keys = new PeriodKeys(new MemoryStore({ now: () => clock.t }), () => clock.t);
          const batched = new MemoryStore({ now: () => clock.t });
          const reference = new MemoryStore({ now: () => clock.t });
          const recorder = new StatsRecorder(batched, keys, 800);
          try {
            for (const { patron, vendor, flush } of signIns) {
              await recorder.record('springfield', vendor, account(patron));
              if (flush) await recorder.flush();
              const day = await keys.current('day');
              const month = await keys.current('month');
              const key = { day: day.period.id, library: 'springfield', vendor };
              const inDay = observe(day.hash(account(patron)));
              const inMonth = observe(month.hash(account(patron)));
              await reference.update(
                dayModel('2026-11'),
                JSON.stringify([key.day, 'springfield', vendor]),
                (current) => ({
                  ...addSignIn(current, key, inDay, inMonth),
                }),
              );
            }
            await recorder.flush();
            for (const vendor of ['a', 'b']) {
              expect(await dayRecord(batched, 'springfield', vendor)).toEqual(
                await dayRecord(reference, 'springfield', vendor),
              );
            }
          } finally {
            await recorder.close();
            keys.close();
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('loses nothing when two workers on one SQLite file flush at the same time', async () => {
    const clock = { t: START };
    const one = sqlite('workers.sqlite', clock);
    const two = sqlite('workers.sqlite', clock);
    const recorders = [new StatsRecorder(one.store, one.keys, 800), new StatsRecorder(two.store, two.keys, 800)];
    cleanup.push(async () => void (await Promise.all(recorders.map((r) => r.close()))));
    const reference = deserialise('');
    for (let round = 0; round < 5; round++) {
      await Promise.all(
        Array.from({ length: 60 }, (_, i) => recorders[i % 2]?.record('springfield', 'v', account(round * 60 + i))),
      );
      await Promise.all(recorders.map((r) => r.flush()));
    }
    const day = await one.keys.current('day');
    for (let i = 0; i < 300; i++) reference.add(observe(day.hash(account(i))));
    const record = await dayRecord(two.store, 'springfield', 'v');
    expect(record?.signIns).toBe(300);
    expect(record?.dayPatrons).toBe(serialise(reference));
  });

  it('flushes on close(), and by itself within a few seconds', async () => {
    const clock = { t: START };
    const { store, keys } = sqlite('close.sqlite', clock);
    const { store: counted, state } = counting(store);
    const recorder = new StatsRecorder(counted, keys, 800);
    await recorder.record('springfield', 'v', account(1));
    await recorder.record('springfield', 'v', account(2));
    // The timer (once a second): counted by polling, not by timing.
    for (let waited = 0; state.updates === 0 && waited < 10_000; waited += 50)
      await new Promise((r) => setTimeout(r, 50));
    expect(state.updates).toBe(1);
    expect((await dayRecord(store, 'springfield', 'v'))?.signIns).toBe(2);
    await recorder.record('springfield', 'v', account(3));
    await recorder.close();
    expect((await dayRecord(store, 'springfield', 'v'))?.signIns).toBe(3);
  });

  it('keeps the counts of a failed flush for the next one and says so once; bounds what it keeps', async () => {
    const clock = { t: START };
    const { store, keys } = sqlite('failing.sqlite', clock);
    const { store: counted, state } = counting(store);
    const { log, lines } = logLines();
    const recorder = new StatsRecorder(counted, keys, 800, { log, maxPending: 5 });
    cleanup.push(() => recorder.close());
    for (let i = 0; i < 10; i++) await recorder.record('springfield', 'v', account(i));
    state.failing = true;
    await recorder.flush();
    await recorder.flush();
    await recorder.flush();
    expect(lines.filter((l) => l.event === 'stats_flush_failed')).toHaveLength(1);
    expect(JSON.stringify(lines)).not.toContain('account-id');
    // While the store fails: keys already pending still count, new ones
    // beyond the cap are dropped, and that is said once.
    for (let i = 0; i < 20; i++) await recorder.record('springfield', `other-${i}`, account(i));
    for (let i = 10; i < 15; i++) await recorder.record('springfield', 'v', account(i));
    expect(recorder.pendingKeys).toBe(5);
    expect(lines.filter((l) => l.event === 'stats_dropped')).toHaveLength(1);
    state.failing = false;
    await recorder.flush();
    expect(recorder.pendingKeys).toBe(0);
    expect((await dayRecord(store, 'springfield', 'v'))?.signIns).toBe(15);
    expect((await dayRecord(store, 'springfield', 'other-0'))?.signIns).toBe(1);
    expect(await dayRecord(store, 'springfield', 'other-19')).toBeUndefined();
  });
});
