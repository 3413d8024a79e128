// Issue 18: a sign-in's cost must not depend on expired records. Every
// statement the SQLite store runs is an index search on the keys it is
// about (never a scan of a model's rows), and a sweep of a large backlog
// runs in short batches that let other calls through.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { SqliteStore } from '../../../src/store/sqlite.ts';
import { fakeClock } from '../../conformance/store.suite.ts';

const dir = mkdtempSync(join(tmpdir(), 'patronym-sqlite-expired-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// What each statement may do: search by all of its keys.
const EXPECTED: Record<string, RegExp> = {
  find: /^SEARCH records USING PRIMARY KEY \(model=\? AND id=\?\)$/,
  findByUid: /^SEARCH records USING INDEX records_uid \(model=\? AND uid=\?\)$/,
  findByUserCode: /^SEARCH records USING INDEX records_user_code \(model=\? AND user_code=\?\)$/,
  consume: /^SEARCH records USING PRIMARY KEY \(model=\? AND id=\?\)$/,
  destroy: /^SEARCH records USING PRIMARY KEY \(model=\? AND id=\?\)$/,
  revoke: /^SEARCH records USING INDEX records_grant \(grant_id=\?\)$/,
  findByAccount: /^SEARCH records USING INDEX records_account \(account_id=\?\)$/,
  // Every record of one model is what list asks for (vendors, at start).
  list: /^SEARCH records USING PRIMARY KEY \(model=\?\)$/,
  sweep: /SEARCH records USING COVERING INDEX records_expiry/,
};

describe('sqlite store and expired records', () => {
  it('runs every lookup as an index search on all of its keys', async () => {
    const store = new SqliteStore(join(dir, 'plans.sqlite'));
    // With records in it, as the planner's choice may depend on them.
    for (let i = 0; i < 200; i++) await store.upsert('Session', `s${i}`, { uid: `u${i}`, accountId: 'a' }, -60);
    const plans = store.queryPlans();
    for (const [name, expected] of Object.entries(EXPECTED)) expect(plans[name], name).toMatch(expected);
    // Inserts (upsert, increment) have no plan to read; nothing scans.
    for (const [name, plan] of Object.entries(plans)) expect(plan, name).not.toMatch(/\bSCAN\b/);
    await store.close();
  });

  it('sweeps a large backlog in batches that let other calls through', async () => {
    const clock = fakeClock();
    const store = new SqliteStore(join(dir, 'sweep.sqlite'), { now: clock.now });
    for (let i = 0; i < 5000; i++) await store.upsert('Session', `old${i}`, { uid: `u${i}` }, 60);
    await store.upsert('Session', 'live', { uid: 'live' }, 3600);
    clock.advance(120_000);
    const order: string[] = [];
    const sweeping = store.sweep().then((removed) => {
      order.push('sweep');
      return removed;
    });
    // A sign-in's call made while the sweep runs: answered before the
    // sweep has finished, not after the whole backlog.
    const during = store.findByUid('Session', 'live').then((found) => {
      order.push('find');
      return found;
    });
    expect(await during).toEqual({ uid: 'live' });
    expect(await sweeping).toEqual({ Session: 5000 });
    expect(order).toEqual(['find', 'sweep']);
    expect(await store.sweep()).toEqual({});
    await store.close();
  });
});

describe('sqlite store: the throttle on the hot path', () => {
  it("prepares each of the limiter's statements once, not at every attempt", async () => {
    const store = new SqliteStore(join(dir, 'limiter.sqlite'));
    const limiter = await store.limiter({ keyPrefix: 'card', points: 100, duration: 60, blockDuration: 0 });
    const prepare = vi.spyOn(Database.prototype, 'prepare');
    try {
      for (let i = 0; i < 20; i++) {
        await limiter.consume(`k${i % 3}`);
        await limiter.reward(`k${i % 3}`, 1);
        await limiter.delete(`k${i % 3}`);
      }
      // Three statements (upsert, upsert with a forced expiry, delete) at most.
      expect(prepare.mock.calls.length).toBeLessThanOrEqual(3);
      expect((await limiter.get('k0'))?.consumedPoints ?? 0).toBe(0);
    } finally {
      prepare.mockRestore();
      await store.close();
    }
  });
});
