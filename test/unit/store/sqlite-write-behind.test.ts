// SQLite's write-behind (issue 18): oidc-provider's records held in memory
// and written once a second. What must reach the file at once (a consume or
// destroy of a record the file already has) is read through a second handle
// on the same file, which sees only what was committed: what a restart
// after a crash would see.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { SqliteStore } from '../../../src/store/sqlite.ts';
import { DeferredCounts, limiterStatements } from '../../../src/store/sqlite-limiter.ts';

const dir = mkdtempSync(join(tmpdir(), 'patronym-write-behind-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function open(trace?: (sql: string) => void) {
  const path = join(dir, `wb-${n++}.sqlite`);
  const store = new SqliteStore(path, { writeBehind: { ms: 60_000 }, ...(trace ? { trace } : {}) });
  // Another process's view of the file (no write-behind of its own).
  const file = new SqliteStore(path);
  return { store, file, close: async () => Promise.all([store.close(), file.close()]) };
}

describe('sqlite write-behind', () => {
  it('holds records until flushed; a record created and spent within the window never reaches the file', async () => {
    const statements: string[] = [];
    const { store, file, close } = open((sql) => statements.push(sql));
    await store.upsert('Interaction', 'i1', { uid: 'u' }, 60);
    await store.upsert('AuthorizationCode', 'c1', { grantId: 'g1' }, 60);
    await store.upsert('Session', 's1', { accountId: 'a1' }, 60);
    expect(await store.find('Interaction', 'i1')).toEqual({ uid: 'u' });
    expect(await file.find('Interaction', 'i1')).toBeUndefined();
    await store.destroy('Interaction', 'i1');
    expect(await store.consume('AuthorizationCode', 'c1')).toBe(true);
    expect(await store.consume('AuthorizationCode', 'c1')).toBe(false);
    await store.flushPending();
    expect(await file.find('Session', 's1')).toEqual({ accountId: 'a1' });
    // The consumed code is written with the session, consumed.
    expect((await file.find('AuthorizationCode', 'c1'))?.consumed).toEqual(expect.any(Number));
    expect(statements.filter((s) => /^INSERT/.test(s) && s.includes("'Interaction'"))).toEqual([]);
    await close();
  });

  it('of 200 concurrent consumes of a held code exactly one wins', async () => {
    const { store, close } = open();
    await store.upsert('AuthorizationCode', 'c1', { grantId: 'g1' }, 60);
    const results = await Promise.all(Array.from({ length: 200 }, () => store.consume('AuthorizationCode', 'c1')));
    expect(results.filter(Boolean)).toHaveLength(1);
    await close();
  });

  it('writes a consume at once when the file has an older copy, so a crash cannot bring it back unconsumed', async () => {
    const { store, file, close } = open();
    await store.upsert('RefreshToken', 'r1', { grantId: 'g1' }, 600);
    await store.flushPending();
    // Saved again (oidc-provider re-saves a token it changes): held, newer.
    await store.upsert('RefreshToken', 'r1', { grantId: 'g1', rotations: 1 }, 600);
    expect(await store.consume('RefreshToken', 'r1')).toBe(true);
    const seen = await file.find('RefreshToken', 'r1');
    expect(seen?.consumed).toEqual(expect.any(Number));
    expect(seen?.rotations).toBe(1);
    await close();
  });

  it('writes a destroy at once when the file has a copy; drops a held record the file never had', async () => {
    const { store, file, close } = open();
    await store.upsert('Session', 's1', { accountId: 'a1' }, 600);
    await store.flushPending();
    await store.upsert('Session', 's1', { accountId: 'a1', touched: 1 }, 600);
    await store.destroy('Session', 's1');
    expect(await file.find('Session', 's1')).toBeUndefined();
    expect(await store.find('Session', 's1')).toBeUndefined();
    await close();
  });

  it('finds by uid among held records first; a held newer copy hides the file’s older one', async () => {
    const { store, close } = open();
    await store.upsert('Session', 's1', { uid: 'old' }, 600);
    await store.flushPending();
    await store.upsert('Session', 's1', { uid: 'new' }, 600);
    expect(await store.findByUid('Session', 'new')).toEqual({ uid: 'new' });
    expect(await store.findByUid('Session', 'old')).toBeUndefined();
    await close();
  });

  it('finds a held record by uid through its index: not once destroyed, from the file once written, not by a uid it no longer has', async () => {
    const { store, file, close } = open();
    await store.upsert('Session', 's1', { uid: 'u1' }, 600);
    await store.upsert('Session', 's2', { uid: 'u2' }, 600);
    await store.upsert('Interaction', 'i1', { uid: 'u1' }, 600);
    expect(await store.findByUid('Session', 'u1')).toEqual({ uid: 'u1' });
    expect(await store.findByUid('Interaction', 'u1')).toEqual({ uid: 'u1' });
    await store.destroy('Session', 's1');
    expect(await store.findByUid('Session', 'u1')).toBeUndefined();
    // A new copy of s2 under another uid: the old uid finds nothing.
    await store.upsert('Session', 's2', { uid: 'u3' }, 600);
    expect(await store.findByUid('Session', 'u2')).toBeUndefined();
    expect(await store.findByUid('Session', 'u3')).toEqual({ uid: 'u3' });
    await store.flushPending();
    expect(await file.findByUid('Session', 'u3')).toEqual({ uid: 'u3' });
    expect(await store.findByUid('Session', 'u3')).toEqual({ uid: 'u3' });
    // Another record takes the uid over (as a session whose id was renewed).
    await store.upsert('Session', 's4', { uid: 'u3' }, 600);
    await store.destroy('Session', 's2');
    expect(await store.findByUid('Session', 'u3')).toEqual({ uid: 'u3' });
    await close();
  });

  it('an expired held copy hides a live older one in the file', async () => {
    let now = Date.now();
    const path = join(dir, `wb-${n++}.sqlite`);
    const store = new SqliteStore(path, { writeBehind: { ms: 60_000 }, now: () => now });
    await store.upsert('Grant', 'g1', { v: 1 }, 600);
    await store.flushPending();
    await store.upsert('Grant', 'g1', { v: 2 }, 1);
    now += 2000;
    expect(await store.find('Grant', 'g1')).toBeUndefined();
    expect(await store.consume('Grant', 'g1')).toBe(false);
    await store.close();
  });

  it('"forget me" finds held records too, and revoking a grant drops its held records', async () => {
    const { store, file, close } = open();
    await store.upsert('Session', 's1', { accountId: 'a1' }, 600);
    await store.upsert('AccessToken', 't1', { accountId: 'a1', grantId: 'g1' }, 600);
    await store.upsert('AccessToken', 't2', { accountId: 'a2', grantId: 'g2' }, 600);
    expect((await store.findByAccount('a1')).map((r) => r.id).sort()).toEqual(['s1', 't1']);
    await store.upsert('AccessToken', 't3', { grantId: 'g2' }, 600);
    await store.revokeByGrantId('g2');
    expect(await store.find('AccessToken', 't3')).toBeUndefined();
    expect(await store.find('AccessToken', 't2')).toBeUndefined();
    await store.flushPending();
    expect(await file.find('AccessToken', 't3')).toBeUndefined();
    await close();
  });

  it('a flush waiting for the write lock (a CLI run holds it): records stay readable, and one dropped meanwhile is not written', async () => {
    const path = join(dir, `wb-${n++}.sqlite`);
    const store = new SqliteStore(path, { writeBehind: { ms: 60_000 } });
    await store.upsert('Session', 's1', { v: 1 }, 600);
    await store.upsert('Interaction', 'i1', { v: 1 }, 600);
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    const flushed = store.flushPending();
    expect(await store.find('Session', 's1')).toEqual({ v: 1 });
    expect(await store.find('Interaction', 'i1')).toEqual({ v: 1 });
    await store.destroy('Interaction', 'i1');
    await store.upsert('Session', 's1', { v: 2 }, 600);
    other.exec('COMMIT');
    await flushed;
    other.close();
    const file = new SqliteStore(path);
    expect(await file.find('Interaction', 'i1')).toBeUndefined();
    // The newer copy is held still (not the flushed batch's): written next.
    expect(await store.find('Session', 's1')).toEqual({ v: 2 });
    await store.flushPending();
    expect(await file.find('Session', 's1')).toEqual({ v: 2 });
    await Promise.all([store.close(), file.close()]);
  });

  it('updates a held record from its held copy, not from the older one in the file', async () => {
    const { store, file, close } = open();
    await store.upsert('Grant', 'g1', { n: 1 }, 600);
    await store.flushPending();
    await store.upsert('Grant', 'g1', { n: 2 }, 600);
    const updated = await store.update('Grant', 'g1', (current) => ({ n: Number(current?.n) + 1 }), 600);
    expect(updated).toEqual({ n: 3 });
    await store.flushPending();
    expect(await file.find('Grant', 'g1')).toEqual({ n: 3 });
    await close();
  });

  it('a flush that fails is reported, keeps its records and is tried again a second later', async () => {
    const path = join(dir, `wb-${n++}.sqlite`);
    const errors: unknown[] = [];
    const store = new SqliteStore(path, { writeBehind: { ms: 20 }, onError: (e) => errors.push(e) });
    const file = new SqliteStore(path);
    const other = new Database(path);
    // better-sqlite3 is synchronous: waiting in SQLite's busy handler for a
    // lock the store holds would block the very event loop whose next turn
    // commits it (a deadlock until busy_timeout). So no busy wait: tried
    // again between turns.
    other.pragma('busy_timeout = 0');
    const alter = async (sql: string) => {
      for (let i = 0; ; i++) {
        try {
          other.exec(sql);
          return;
        } catch (error) {
          if (i > 500 || (error as { code?: string }).code !== 'SQLITE_BUSY') throw error;
          await new Promise((r) => setTimeout(r, 2));
        }
      }
    };
    await alter('ALTER TABLE records RENAME TO records_away');
    await store.upsert('Session', 's1', { v: 1 }, 600);
    await expect(store.flushPending()).rejects.toThrow(/records/);
    // The timer's own try goes to onError (the sysadmin's log).
    for (let i = 0; i < 100 && errors.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(errors.length).toBeGreaterThan(0);
    expect(await store.find('Session', 's1')).toEqual({ v: 1 });
    await alter('ALTER TABLE records_away RENAME TO records');
    other.close();
    for (let i = 0; i < 100 && !(await file.find('Session', 's1')); i++) await new Promise((r) => setTimeout(r, 10));
    expect(await file.find('Session', 's1')).toEqual({ v: 1 });
    await Promise.all([store.close(), file.close()]);
  });

  it('close writes what is held', async () => {
    const path = join(dir, `wb-${n++}.sqlite`);
    const store = new SqliteStore(path, { writeBehind: { ms: 60_000 } });
    await store.upsert('Grant', 'g1', { v: 1 }, 600);
    await store.close();
    const again = new SqliteStore(path);
    expect(await again.find('Grant', 'g1')).toEqual({ v: 1 });
    await again.close();
  });

  it('leaves Patronym’s own records alone: they are in the file when the call resolves', async () => {
    const { store, file, close } = open();
    await store.upsert('ReleaseLog', 'a1', { entries: [] });
    await store.upsert('PseudonymGeneration', 'a1', { g: 1 });
    expect(await file.find('ReleaseLog', 'a1')).toEqual({ entries: [] });
    expect(await file.find('PseudonymGeneration', 'a1')).toEqual({ g: 1 });
    await close();
  });
});

describe('sqlite write-behind: the limiters', () => {
  const options = { keyPrefix: 'wb', points: 5, duration: 900, blockDuration: 900 };

  it('holds rewards and deletes; a consume of the key sees them; the flush writes them', async () => {
    const statements: string[] = [];
    const { store, file, close } = open((sql) => statements.push(sql));
    const limiter = await store.limiter(options);
    const other = await file.limiter(options);
    for (let i = 0; i < 3; i++) await limiter.consume('k');
    await limiter.reward('k', 1);
    // Another handle (a restart after a crash) still sees 3: higher, never lower.
    expect((await other.get('k'))?.consumedPoints).toBe(3);
    // This process sees 2 + 1.
    expect((await limiter.consume('k')).consumedPoints).toBe(3);
    await limiter.delete('k');
    expect((await other.get('k'))?.consumedPoints).toBe(3);
    expect(await limiter.get('k')).toBeNull();
    await limiter.consume('j');
    await limiter.delete('j');
    await store.flushPending();
    expect(await other.get('j')).toBeNull();
    expect(statements.some((s) => /^DELETE FROM limiter_counters/.test(s))).toBe(true);
    await close();
  });

  it('answers a reward with the count it will leave, held changes included; a read of another key writes nothing', async () => {
    const statements: string[] = [];
    const { store, close } = open((sql) => statements.push(sql));
    const limiter = await store.limiter(options);
    for (let i = 0; i < 3; i++) await limiter.consume('k');
    expect((await limiter.reward('k', 1)).consumedPoints).toBe(2);
    expect((await limiter.reward('k', 1)).consumedPoints).toBe(1);
    statements.length = 0;
    await limiter.get('other');
    expect(statements.filter((s) => /^(BEGIN|INSERT|UPDATE|DELETE)/.test(s))).toEqual([]);
    expect((await limiter.get('k'))?.consumedPoints).toBe(1);
    await close();
  });

  it('answers a reward or delete after a consume without reading the counter back, and as the file would', async () => {
    const statements: string[] = [];
    const { store, file, close } = open((sql) => statements.push(sql));
    const limiter = await store.limiter({ ...options, duration: 1 });
    await limiter.consume('k');
    await limiter.consume('k');
    statements.length = 0;
    expect((await limiter.reward('k', 1)).consumedPoints).toBe(1);
    expect(await limiter.delete('k')).toBe(true);
    expect(await limiter.delete('k')).toBe(false);
    expect(statements.filter((s) => /limiter_counters/.test(s))).toEqual([]);
    // A counter whose window ended since it was counted is none, as it reads in the file.
    await limiter.consume('e');
    const later = Date.now() + 2_000;
    const now = vi.spyOn(Date, 'now').mockReturnValue(later);
    try {
      expect(await limiter.delete('e')).toBe(false);
      expect((await limiter.reward('e', 1)).consumedPoints).toBe(-1);
    } finally {
      now.mockRestore();
    }
    // What is written is unchanged: the flush applies the held changes to the file's counts.
    await store.flushPending();
    const other = await file.limiter({ ...options, duration: 1 });
    expect(await other.get('k')).toBeNull();
    await close();
  });

  it('remembers a bounded number of counters when no flush comes (wrong PINs on many cards hold nothing)', () => {
    const db = new Database(':memory:');
    const counts = new DeferredCounts(limiterStatements(db));
    for (let i = 0; i < 25_000; i++) counts.seen(`card-${i}`, { points: 1, expire: null });
    expect(counts.remembered).toBeGreaterThan(0);
    expect(counts.remembered).toBeLessThanOrEqual(10_000);
    // The newest is still remembered: answered without reading.
    expect(counts.fileCounter('card-24999', Date.now(), () => undefined)).toEqual({ points: 1, expire: null });
    db.close();
  });

  it('of 200 concurrent consumes after a held reward, exactly the allowed number pass', async () => {
    const { store, close } = open();
    const limiter = await store.limiter(options);
    await limiter.consume('k');
    await limiter.reward('k', 1);
    const results = await Promise.allSettled(Array.from({ length: 200 }, () => limiter.consume('k')));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(options.points);
    await close();
  });
});
