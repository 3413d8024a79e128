// Group commit in the SQLite store (issue 18): writes of one event-loop turn
// share one transaction, and each settles only once it is in the file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../../src/store/sqlite.ts';
import { GroupCommit } from '../../../src/store/sqlite-group-commit.ts';

const dir = mkdtempSync(join(tmpdir(), 'patronym-group-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(dir, `g${n++}.sqlite`);

// Counts COMMITs and writes SQLite ran outside a transaction (autocommits).
function counter() {
  const seen = { commits: 0, autocommits: 0, inTransaction: false };
  const trace = (sql: string) => {
    const verb = (/^\s*(\w+)/.exec(sql)?.[1] ?? '').toUpperCase();
    if (verb === 'BEGIN') seen.inTransaction = true;
    else if (verb === 'COMMIT' || verb === 'ROLLBACK') {
      if (verb === 'COMMIT') seen.commits++;
      seen.inTransaction = false;
    } else if (['INSERT', 'UPDATE', 'DELETE'].includes(verb) && !seen.inTransaction) seen.autocommits++;
  };
  return { seen, trace };
}

describe('sqlite group commit', () => {
  it('commits the writes of one turn once, models and limiter alike', async () => {
    const { seen, trace } = counter();
    const store = new SqliteStore(freshPath(), { trace });
    const limiter = await store.limiter({ keyPrefix: 'g', points: 100, duration: 60, blockDuration: 60 });
    seen.commits = 0;
    await Promise.all([
      ...Array.from({ length: 50 }, (_, i) => store.upsert('Session', `s${i}`, { i }, 60)),
      store.update('ReleaseLog', 'r', () => ({ seen: 1 })),
      store.increment('Throttle', 'k', 60),
      store.consume('AuthorizationCode', 'missing'),
      ...Array.from({ length: 20 }, () => limiter.consume('card')),
    ]);
    expect(seen.autocommits).toBe(0);
    expect(seen.commits).toBe(1);
    expect((await limiter.get('card'))?.consumedPoints).toBe(20);
    await store.close();
  });

  it('settles a write only once another handle on the file can read it', async () => {
    const path = freshPath();
    const store = new SqliteStore(path);
    const other = new Database(path, { readonly: true });
    const visible = (id: string) => other.prepare('SELECT 1 FROM records WHERE id = ?').get(id) !== undefined;
    const seenAtSettle: boolean[] = [];
    const writes = Array.from({ length: 20 }, (_, i) =>
      store.upsert('Session', `s${i}`, {}, 60).then(() => seenAtSettle.push(visible(`s${i}`))),
    );
    // Written in this process, not yet committed: another handle sees nothing.
    expect(visible('s0')).toBe(false);
    await Promise.all(writes);
    expect(seenAtSettle).toEqual(Array(20).fill(true));
    other.close();
    await store.close();
  });

  it('a read made while a group is open waits for its commit', async () => {
    const path = freshPath();
    const store = new SqliteStore(path);
    const other = new Database(path, { readonly: true });
    const write = store.upsert('Grant', 'g', { v: 1 }, 60);
    const found = await store.find('Grant', 'g');
    // The read saw the pending write; it settled only after the COMMIT.
    expect(found).toEqual({ v: 1 });
    expect(other.prepare("SELECT 1 FROM records WHERE id = 'g'").get()).toBeDefined();
    await write;
    other.close();
    await store.close();
  });

  it('consumes once: 200 concurrent consumes in one process, and from two handles on one file', async () => {
    const path = freshPath();
    const a = new SqliteStore(path);
    const b = new SqliteStore(path);
    await a.upsert('AuthorizationCode', 'c1', { grantId: 'g' }, 60);
    const one = await Promise.all(Array.from({ length: 200 }, () => a.consume('AuthorizationCode', 'c1')));
    expect(one.filter(Boolean)).toHaveLength(1);
    await a.upsert('AuthorizationCode', 'c2', { grantId: 'g' }, 60);
    const two = await Promise.all(
      Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).consume('AuthorizationCode', 'c2')),
    );
    expect(two.filter(Boolean)).toHaveLength(1);
    // and updates from both handles lose nothing
    const append = (tag: string) => (current: Record<string, unknown> | undefined) => ({
      seen: [...((current?.seen as string[] | undefined) ?? []), tag],
    });
    await Promise.all(
      Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).update('ReleaseLog', 'r', append(`t${i}`))),
    );
    expect((await a.find('ReleaseLog', 'r'))?.seen).toHaveLength(200);
    await b.close();
    await a.close();
  });

  it('consumes once and counts every increment with three threads writing one file at the same time', async () => {
    const path = freshPath();
    const store = new SqliteStore(path);
    await store.upsert('AuthorizationCode', 'shared', { grantId: 'g' }, 60);
    const barrier = new SharedArrayBuffer(8);
    const gate = new Int32Array(barrier);
    const threads = Array.from(
      { length: 3 },
      () =>
        new Worker(new URL('../../support/sqlite-contender.ts', import.meta.url), {
          workerData: { path, n: 200, barrier },
        }),
    );
    const answers = threads.map(
      (thread) =>
        new Promise<{ won: number; counts: number[] }>((resolve, reject) => {
          thread.once('message', resolve);
          thread.once('error', reject);
        }),
    );
    while (Atomics.load(gate, 0) < 3) await new Promise((resolve) => setTimeout(resolve, 10));
    Atomics.store(gate, 1, 1);
    Atomics.notify(gate, 1);
    const results = await Promise.all(answers);
    expect(results.reduce((sum, r) => sum + r.won, 0)).toBe(1);
    const counts = results.flatMap((r) => r.counts).sort((x, y) => x - y);
    expect(counts).toEqual(Array.from({ length: 600 }, (_, i) => i + 1));
    await store.close();
  }, 60_000);

  it('a failing statement fails only its own caller; the rest of its group is committed', async () => {
    const path = freshPath();
    const raw = new Database(path);
    const store = new SqliteStore(path);
    await store.upsert('Session', 'setup', {}, 60);
    // A record whose payload is not JSON: consume's json_set fails on it.
    raw.prepare(`INSERT INTO records (model, id, payload) VALUES ('AuthorizationCode', 'bad', 'not json')`).run();
    const results = await Promise.allSettled([
      store.upsert('Session', 'before', {}, 60),
      store.consume('AuthorizationCode', 'bad'),
      store.update('Consent', 'thrown', () => {
        throw new Error('changed my mind');
      }),
      store.upsert('Session', 'after', {}, 60),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    raw.close();
    await store.close();
    const reopened = new SqliteStore(path);
    expect(await reopened.find('Session', 'before')).toEqual({});
    expect(await reopened.find('Session', 'after')).toEqual({});
    expect(await reopened.find('Consent', 'thrown')).toBeUndefined();
    await reopened.close();
  });

  it('a failing COMMIT rejects every caller of its group, and the next group goes on', async () => {
    const db = new Database(freshPath());
    db.pragma('foreign_keys = ON');
    db.exec(`CREATE TABLE parent (id TEXT PRIMARY KEY);
      CREATE TABLE child (id TEXT PRIMARY KEY, parent TEXT REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED);`);
    const group = new GroupCommit(db);
    const insert = db.prepare('INSERT INTO child VALUES (?, ?)');
    // The deferred foreign key is checked at COMMIT only.
    const results = await Promise.allSettled([
      group.write(() => insert.run('fine', null)),
      group.write(() => insert.run('orphan', 'nobody')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    const reason = (results[0] as PromiseRejectedResult).reason as { code?: string; cause?: { code?: string } };
    expect(reason.code).toBe('store_unavailable');
    expect(reason.cause?.code).toBe('SQLITE_CONSTRAINT_FOREIGNKEY');
    expect(db.inTransaction).toBe(false);
    expect(db.prepare('SELECT count(*) AS n FROM child').get()).toEqual({ n: 0 });
    await group.write(() => insert.run('next', null));
    expect(db.prepare('SELECT count(*) AS n FROM child').get()).toEqual({ n: 1 });
    db.close();
  });

  it('close() commits the open group first', async () => {
    const path = freshPath();
    const store = new SqliteStore(path);
    const write = store.upsert('Account', 'a', { realm: 'r' });
    await store.close();
    await write;
    const reopened = new SqliteStore(path);
    expect(await reopened.find('Account', 'a')).toEqual({ realm: 'r' });
    await reopened.close();
  });

  it('waits for another handle’s lock without blocking this process (its COMMIT needs this event loop)', async () => {
    const path = freshPath();
    const a = new SqliteStore(path);
    const b = new SqliteStore(path);
    // Each handle's BEGIN IMMEDIATE finds the other's group open; with a
    // blocking busy wait the first such write would stall for busy_timeout
    // (5 s) and the second side's COMMIT with it.
    const writes = Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).increment('Throttle', 'k', 60));
    const counts = await Promise.all(writes);
    expect(counts.sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    await b.close();
    await a.close();
  });

  it('opens a file whose schema is current without writing, so an open group elsewhere in this process does not stall it', async () => {
    // `patronym clients policy …` run in the broker's process (the e2e
    // tests do) opened its store with a blocking write (PRAGMA
    // user_version) while the broker's group was open: the group's COMMIT
    // waits for this event loop, so the open stalled for busy_timeout and
    // failed with "database is locked".
    const path = freshPath();
    const broker = new SqliteStore(path);
    await broker.increment('Throttle', 'k', 60);
    const open = broker.increment('Throttle', 'k', 60); // its group stays open until the next turn
    const statements: string[] = [];
    // Before the fix this threw "database is locked" after busy_timeout.
    const cli = new SqliteStore(path, { trace: (sql) => statements.push(sql) });
    expect(statements.filter((sql) => /user_version\s*=|^\s*(INSERT|UPDATE|DELETE|ALTER)/i.test(sql))).toEqual([]);
    expect(await open).toBe(2);
    expect(await cli.increment('Throttle', 'k', 60)).toBe(3);
    await cli.close();
    await broker.close();
  });

  it('sweeps in groups of its own size, each committed before the next', async () => {
    const { seen, trace } = counter();
    let now = Date.UTC(2026, 0, 1);
    const store = new SqliteStore(freshPath(), { trace, now: () => now });
    await Promise.all(Array.from({ length: 1200 }, (_, i) => store.upsert('Session', `s${i}`, {}, 1)));
    now += 2_000;
    seen.commits = 0;
    seen.autocommits = 0;
    expect(await store.sweep()).toEqual({ Session: 1200 });
    // three record batches and one limiter batch, never one long transaction
    expect(seen.commits + seen.autocommits).toBe(4);
    await store.close();
  });
});
