// Recording and reading the statistics on the real SQLite store with a
// controllable clock: what is counted, what is suppressed, and that each
// period's key is gone once the period ends.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { formatPurge, purge } from '../../../src/cli/commands/purge.ts';
import { type ReportContext, toCsv, toJson } from '../../../src/stats/counter.ts';
import { STANDARD_ERROR } from '../../../src/stats/hyperloglog.ts';
import { KEY_MODEL, PeriodKeys } from '../../../src/stats/period-keys.ts';
import { StatsRecorder } from '../../../src/stats/recorder.ts';
import { readStats } from '../../../src/stats/report.ts';
import { SqliteStore } from '../../../src/store/sqlite.ts';
import type { Store } from '../../../src/store/store.ts';

const dir = mkdtempSync(join(tmpdir(), 'patronym-stats-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const DAY = 24 * 3600 * 1000;
const START = Date.UTC(2026, 10, 29, 10); // 29 November 2026, 10:00 UTC

let n = 0;
let opened: { store: SqliteStore; keys: PeriodKeys[] }[] = [];
function open(clock: { t: number }) {
  const path = join(dir, `stats-${n++}.sqlite`);
  const store = new SqliteStore(path, { now: () => clock.t });
  const keys = new PeriodKeys(store, () => clock.t);
  opened.push({ store, keys: [keys] });
  return { path, store, keys, recorder: new StatsRecorder(store, keys, 800) };
}
afterEach(async () => {
  for (const o of opened) {
    for (const k of o.keys) k.close();
    await o.store.close();
  }
  opened = [];
});

// Keys are random, so two of a few dozen patrons share a register now and
// then (1 in 5 runs for 40 patrons): the estimate then reads one or two
// fewer. Within 2.5, or three standard errors for larger counts; within one
// below 6 (1 in 1,400 runs for 3 patrons); one patron is always exact.
function expectNear(actual: number[], expected: number[]): void {
  expect(actual).toHaveLength(expected.length);
  expected.forEach((n, i) => {
    const tolerance = n === 1 ? 0 : n < 6 ? 1 : Math.max(2.5, 3 * STANDARD_ERROR * n);
    expect(Math.abs((actual[i] ?? -1) - n), `${actual[i]} for ${n}`).toBeLessThanOrEqual(tolerance);
  });
}

const account = (i: number) => `account-id-${i}-${'x'.repeat(30)}`;

function context(rows: { vendor: string }[], threshold = 5): ReportContext {
  return {
    created: new Date(START),
    since: '2026-11',
    until: '2026-12',
    granularity: 'month',
    threshold,
    libraries: new Map([['springfield', 'Springfield Public Library']]),
    vendors: new Map(rows.map((r) => [r.vendor, r.vendor.toUpperCase()])),
  };
}

async function dumpText(store: Store): Promise<string> {
  const records: unknown[] = [];
  for await (const record of store.dump()) records.push(record);
  return JSON.stringify(records);
}

describe('usage statistics', () => {
  it('counts sign-ins, and patrons once per day and once per month across days', async () => {
    const clock = { t: START };
    const { store, recorder } = open(clock);
    for (let i = 0; i < 30; i++) await recorder.record('springfield', 'vendor-a', account(i));
    for (let i = 0; i < 30; i++) await recorder.record('springfield', 'vendor-a', account(i)); // again, same day
    clock.t += DAY;
    for (let i = 0; i < 10; i++) await recorder.record('springfield', 'vendor-a', account(i));
    for (let i = 0; i < 3; i++) await recorder.record('springfield', 'vendor-b', account(i));

    const days = await readStats(store, { since: '2026-11-01', until: '2026-11-30', granularity: 'day' });
    expect(days.map(({ patrons: _, ...row }) => row)).toEqual([
      { library: 'springfield', vendor: 'vendor-a', period: '2026-11-29', signIns: 60 },
      { library: 'springfield', vendor: 'vendor-a', period: '2026-11-30', signIns: 10 },
      { library: 'springfield', vendor: 'vendor-b', period: '2026-11-30', signIns: 3 },
    ]);
    expectNear(
      days.map((d) => d.patrons),
      [30, 10, 3],
    );
    // The month merges its days under the month's key: the 10 who came back
    // are not counted again (a sum of days would say 40).
    const months = await readStats(store, { since: '2026-11', until: '2026-11', granularity: 'month' });
    expect(months.map(({ patrons: _, ...row }) => row)).toEqual([
      { library: 'springfield', vendor: 'vendor-a', period: '2026-11', signIns: 70 },
      { library: 'springfield', vendor: 'vendor-b', period: '2026-11', signIns: 3 },
    ]);
    expectNear(
      months.map((m) => m.patrons),
      [30, 3],
    );
    // Nothing outside the query's range, and a library filter.
    expect(await readStats(store, { since: '2026-12', until: '2026-12', granularity: 'month' })).toEqual([]);
    expect(
      await readStats(store, { since: '2026-11', until: '2026-11', granularity: 'month', library: 'other' }),
    ).toEqual([]);
  });

  it('estimates a month of 3,000 patrons over 30 days within the stated error', async () => {
    const clock = { t: Date.UTC(2027, 0, 1, 12) };
    const { store, recorder } = open(clock);
    // The month's secret fixed (it is random otherwise), so the estimate is
    // the same at every run: a pass is not luck, a 3σ bound not a 0.3% flake.
    await store.upsert(KEY_MODEL, 'month:2027-01', { secret: Buffer.alloc(32, 7).toString('base64url') }, 40 * 86_400);
    // Each day 200 patrons from a pool of 3,000: every patron appears on
    // two days, so a sum of days would say 6,000.
    for (let day = 0; day < 30; day++) {
      for (let i = 0; i < 200; i++) await recorder.record('springfield', 'vendor-a', account((day * 100 + i) % 3000));
      clock.t += DAY;
    }
    const [month] = await readStats(store, { since: '2027-01', until: '2027-01', granularity: 'month' });
    expect(month?.signIns).toBe(6000);
    expect(Math.abs((month?.patrons ?? 0) - 3000) / 3000).toBeLessThan(3 * 0.01625);
  });

  it('suppresses counts below the threshold as "fewer than N", in CSV and JSON', async () => {
    const rows = [
      { library: 'springfield', vendor: 'vendor-a', period: '2026-11', signIns: 12, patrons: 4 },
      { library: 'springfield', vendor: 'vendor-b', period: '2026-11', signIns: 5, patrons: 5 },
      { library: 'springfield', vendor: 'vendor-c', period: '2026-11', signIns: 1, patrons: 1 },
    ];
    const csv = toCsv(rows, context(rows));
    expect(csv).toContain('Springfield Public Library,springfield,VENDOR-A,vendor-a,2026-11,Sign_Ins,12\r\n');
    expect(csv).toContain(',vendor-a,2026-11,Distinct_Patrons_Estimated,fewer than 5\r\n');
    expect(csv).toContain(',vendor-b,2026-11,Distinct_Patrons_Estimated,5\r\n');
    expect(csv).toContain(',vendor-c,2026-11,Sign_Ins,fewer than 5\r\n');
    expect(csv).not.toMatch(/,(1|4)\r\n/);
    const json = JSON.parse(toJson(rows, context(rows)));
    expect(json.Report_Header.Report_ID).toBe('PATRONYM_SIGN_INS');
    expect(json.Report_Items[0]).toEqual({
      Library: 'Springfield Public Library',
      Library_ID: 'springfield',
      Platform: 'VENDOR-A',
      Vendor_ID: 'vendor-a',
      Performance: [
        {
          Period: '2026-11',
          Instance: [
            { Metric_Type: 'Sign_Ins', Count: 12 },
            { Metric_Type: 'Distinct_Patrons_Estimated', Count: 'fewer than 5' },
          ],
        },
      ],
    });
    // A configured threshold.
    expect(toCsv(rows, context(rows, 2))).toContain(',vendor-c,2026-11,Sign_Ins,fewer than 2\r\n');
    expect(toCsv(rows, context(rows, 2))).toContain(',vendor-a,2026-11,Distinct_Patrons_Estimated,4\r\n');
  });

  it('forgets each period’s key when the period ends: in the store, in the file and in the running broker', async () => {
    const clock = { t: Date.UTC(2026, 10, 30, 23, 0) }; // the last hour of November
    const { path, store, keys, recorder } = open(clock);
    await recorder.record('springfield', 'vendor-a', account(1));
    const dayKey = await store.find(KEY_MODEL, 'day:2026-11-30');
    const monthKey = await store.find(KEY_MODEL, 'month:2026-11');
    expect(dayKey?.secret).toEqual(expect.any(String));
    expect(monthKey?.secret).toEqual(expect.any(String));
    const before = (await keys.current('day')).hash(account(1));

    clock.t += 2 * 3600 * 1000; // 1 December, 01:00
    expect(await store.find(KEY_MODEL, 'day:2026-11-30')).toBeUndefined();
    expect(await store.find(KEY_MODEL, 'month:2026-11')).toBeUndefined();
    // What the broker's sweep does (and `patronym purge` prints).
    const removed = await purge(store);
    expect(removed).toEqual({ StatsKey: 2 });
    expect(formatPurge(removed)).toContain('2  statistics keys of ended days and months');
    const text = await dumpText(store);
    const file = Buffer.concat([path, `${path}-wal`].filter(existsSync).map((f) => readFileSync(f)));
    for (const secret of [dayKey?.secret, monthKey?.secret] as string[]) {
      expect(text).not.toContain(secret);
      expect(file.includes(Buffer.from(secret))).toBe(false);
    }
    // The broker's cached key went too: the same patron now lands elsewhere.
    expect((await keys.current('day')).hash(account(1)).equals(before)).toBe(false);
    // November's counts stay.
    expect(await readStats(store, { since: '2026-11', until: '2026-11', granularity: 'month' })).toEqual([
      { library: 'springfield', vendor: 'vendor-a', period: '2026-11', signIns: 1, patrons: 1 },
    ]);
  });

  it('keeps no accountId, nor any hash of it under a lasting key, in the statistics', async () => {
    const clock = { t: START };
    const { path, store, recorder } = open(clock);
    for (let i = 0; i < 20; i++) await recorder.record('springfield', 'vendor-a', account(i));
    // Written as a running broker writes them within the second (the dump
    // below is no statistics read, so it does not flush by itself).
    await recorder.flush();
    clock.t += 40 * DAY;
    await store.sweep();
    await store.scrub();
    const text = await dumpText(store);
    const file = Buffer.concat([path, `${path}-wal`].filter(existsSync).map((f) => readFileSync(f))).toString('latin1');
    for (let i = 0; i < 20; i++) {
      expect(text).not.toContain(account(i));
      expect(file).not.toContain(account(i));
    }
    // What remains: day records of counts and registers, no key.
    const models = new Set(JSON.parse(text).map((r: { model: string }) => r.model));
    expect([...models]).toEqual(['StatsDay/2026-11']);
  });

  it('loses no sign-in when many are counted at once, and instances starting a period agree on its key', async () => {
    const clock = { t: START };
    const { store, recorder } = open(clock);
    // A second broker process on the same file: its own key cache.
    const other = new SqliteStore(join(dir, `stats-${n - 1}.sqlite`), { now: () => clock.t });
    const otherKeys = new PeriodKeys(other, () => clock.t);
    opened.push({ store: other, keys: [otherKeys] });
    const otherRecorder = new StatsRecorder(other, otherKeys, 800);
    await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        (i % 2 ? recorder : otherRecorder).record('springfield', 'v', account(i % 40)),
      ),
    );
    const [day] = await readStats(store, { since: '2026-11-29', until: '2026-11-29', granularity: 'day' });
    expect(day?.signIns).toBe(100);
    expectNear([day?.patrons ?? 0], [40]);
  });
});
