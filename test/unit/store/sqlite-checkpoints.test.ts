// Checkpoints of the broker's SQLite handle (issue 18): SQLite's automatic
// checkpoint is off, the store checkpoints after about 1,000 pages' worth of
// commits, and the log's fsync, 90% of a checkpoint's time, runs first in
// libuv's thread pool instead of blocking the event loop.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../../src/store/sqlite.ts';
import {
  CHECKPOINT_COMMITS,
  type CheckpointResult,
  Checkpoints,
  type CheckpointsOptions,
} from '../../../src/store/sqlite-checkpoints.ts';
import { GroupCommit } from '../../../src/store/sqlite-group-commit.ts';

const dir = mkdtempSync(join(tmpdir(), 'patronym-checkpoints-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(dir, `c${n++}.sqlite`);

const walBytes = (path: string) => statSync(`${path}-wal`).size;

// The log header's checkpoint sequence number (bytes 12–15, big-endian):
// SQLite adds one each time it starts the log over after a full checkpoint.
const logRestarts = (path: string): number => readFileSync(`${path}-wal`).subarray(0, 32).readUInt32BE(12);

describe('sqlite checkpoints of the broker handle', () => {
  it('copies the log into the file and starts it over, again and again', async () => {
    const path = freshPath();
    const store = new SqliteStore(path, { writeBehind: true });
    const payload = { text: 'x'.repeat(600) };
    // Accounts are not held: each awaited upsert is a commit of its own.
    const commits = CHECKPOINT_COMMITS * 16;
    for (let i = 0; i < commits; i++) await store.upsert('Account', `a${i}`, payload);
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Each time a checkpoint has copied the whole log, the next commit starts
    // the log over and counts it in the log's header. Without checkpoints it
    // is never restarted. Not the log's size: commits go on during the early
    // fsync, so on a busy machine with a slow disk one interval is longer
    // (CI saw 890 commits, 11 MB); the count of restarts still shows it.
    expect(logRestarts(path)).toBeGreaterThanOrEqual(2);
    // The accounts are in the database file itself: a copy of the file
    // without its log holds most of them (none without checkpoints).
    const copy = `${path}.copy`;
    copyFileSync(path, copy);
    const file = new Database(copy, { readonly: true, fileMustExist: true });
    const inFile = file.prepare("SELECT count(*) AS n FROM records WHERE model = 'Account'").get() as { n: number };
    file.close();
    expect(inFile.n).toBeGreaterThan(commits / 2);
    await store.close();
  });

  it('a CLI command handle (no write-behind) keeps SQLite automatic checkpoint', async () => {
    const path = freshPath();
    const cli = new SqliteStore(path);
    const payload = { text: 'x'.repeat(600) };
    const commits = CHECKPOINT_COMMITS * 8;
    for (let i = 0; i < commits; i++) await cli.upsert('Account', `a${i}`, payload);
    expect(walBytes(path)).toBeLessThan((commits * 3 * 4096) / 3);
    await cli.close();
  });

  it('fsyncs the log before the checkpoint, off the event loop, and starts no second one meanwhile', async () => {
    const order: string[] = [];
    let written: () => void = () => {};
    const checkpoints = new Checkpoints({
      walPath: join(dir, 'none-wal'),
      commits: 3,
      sync: () =>
        new Promise<void>((resolve) => {
          order.push('fsync');
          written = resolve;
        }),
      checkpoint: async (mode) => {
        order.push(mode);
      },
    });
    checkpoints.committed();
    checkpoints.committed();
    expect(order).toEqual([]);
    checkpoints.committed();
    expect(order).toEqual(['fsync']);
    // The fsync is under way: the event loop goes on, commits go on, and
    // no second checkpoint starts.
    await new Promise((resolve) => setTimeout(resolve, 10));
    for (let i = 0; i < 10; i++) checkpoints.committed();
    expect(order).toEqual(['fsync']);
    const truncate = checkpoints.now('TRUNCATE');
    written();
    await checkpoints.settled();
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual(['fsync', 'PASSIVE', 'fsync']);
    written();
    await truncate;
    // scrub's TRUNCATE waited for the checkpoint under way, with its own fsync.
    expect(order).toEqual(['fsync', 'PASSIVE', 'fsync', 'TRUNCATE']);
  });

  it('checkpoints anyway when the fsync fails, and says so', async () => {
    const { checkpoints, done, problems } = recording({
      sync: () => Promise.reject(Object.assign(new Error('I/O error'), { code: 'EIO' })),
    });
    checkpoints.committed();
    await checkpoints.settled();
    expect(done).toEqual(['PASSIVE']);
    expect(problems).toEqual(['sqlite: early fsync of the write-ahead log failed (EIO); checkpointing anyway']);
  });

  it('reports a failed checkpoint, and tries the next as usual', async () => {
    let calls = 0;
    const { checkpoints, problems } = recording({
      commits: 2,
      checkpoint: async () => {
        calls += 1;
        if (calls === 1) throw Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' });
      },
    });
    for (let i = 0; i < 4; i++) {
      checkpoints.committed();
      await checkpoints.settled();
    }
    expect(calls).toBe(2);
    expect(problems).toEqual([
      'sqlite: checkpoint of the write-ahead log failed (SQLITE_IOERR); nothing is lost, the log grows until one succeeds, the next is tried after 2 commits',
    ]);
  });

  it('fsyncs a real log, and a missing one is no error', async () => {
    const wal = join(dir, 'real-wal');
    writeFileSync(wal, 'frames');
    for (const walPath of [wal, join(dir, 'missing-wal')]) {
      const { checkpoints, done, problems } = recording({ walPath });
      checkpoints.committed();
      await checkpoints.settled();
      expect(done).toEqual(['PASSIVE']);
      expect(problems).toEqual([]);
    }
  });
});

// Checkpoints after every commit, with the checkpoints run and the problems
// reported.
function recording(options: Partial<CheckpointsOptions> = {}) {
  const done: string[] = [];
  const problems: string[] = [];
  const checkpoints = new Checkpoints({
    walPath: join(dir, 'none-wal'),
    commits: 1,
    checkpoint: async (mode) => {
      done.push(mode);
    },
    onWarning: (message) => problems.push(message),
    ...options,
  });
  return { checkpoints, done, problems };
}

describe('a log that cannot be copied', () => {
  it('warns once while a reader keeps it from the file, and again only after it came down', async () => {
    const path = freshPath();
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('wal_autocheckpoint = 0');
    db.exec('CREATE TABLE t (x)');
    const reader = new Database(path, { readonly: true });
    const warnings: string[] = [];
    const checkpoints = new Checkpoints({
      walPath: `${path}-wal`,
      commits: 10,
      stuckPages: 50,
      checkpoint: async (mode) => (db.pragma(`wal_checkpoint(${mode})`) as CheckpointResult[])[0],
      onWarning: (message) => warnings.push(message),
    });
    const insert = db.prepare('INSERT INTO t VALUES (?)');
    const commits = async (n: number) => {
      for (let i = 0; i < n; i++) {
        insert.run('x'.repeat(3000));
        checkpoints.committed();
        await checkpoints.settled();
      }
    };
    // A reader in the middle of a long read (a backup, a sqlite3 shell).
    const pin = () => {
      reader.exec('BEGIN');
      reader.prepare('SELECT count(*) FROM t').get();
    };
    pin();
    await commits(100);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^sqlite: \d+ pages of the write-ahead log \(.+-wal\) cannot be copied into the database file: another connection is still reading an older state of it/,
    );
    await commits(100);
    expect(warnings).toHaveLength(1);
    // The reader ends: the next checkpoint copies everything.
    reader.exec('COMMIT');
    await commits(20);
    expect(warnings).toHaveLength(1);
    pin();
    await commits(100);
    expect(warnings).toHaveLength(2);
    reader.exec('COMMIT');
    reader.close();
    db.close();
  });
});

describe('group commit: work for when no transaction is open', () => {
  it('runs now when none is, after the open group commits otherwise', async () => {
    const db = new Database(freshPath());
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (x)');
    const group = new GroupCommit(db);
    const seen: boolean[] = [];
    await group.whenIdle(() => seen.push(db.inTransaction));
    const insert = db.prepare('INSERT INTO t VALUES (1)');
    const write = group.write(() => insert.run());
    const idle = group.whenIdle(() => seen.push(db.inTransaction));
    expect(seen).toEqual([false]);
    await Promise.all([write, idle]);
    expect(seen).toEqual([false, false]);
    db.close();
  });

  it('waits for writes queued behind another handle lock, then runs outside any transaction', async () => {
    const path = freshPath();
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (x)');
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    const group = new GroupCommit(db);
    const order: string[] = [];
    const insert = db.prepare('INSERT INTO t VALUES (1)');
    const write = group.write(() => insert.run()).then(() => order.push('write'));
    const idle = group.whenIdle(() => order.push(db.inTransaction ? 'idle in a transaction' : 'idle'));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(order).toEqual([]);
    other.exec('COMMIT');
    await Promise.all([write, idle]);
    // Right after the commit, before the write's caller hears of it.
    expect(order).toEqual(['idle', 'write']);
    other.close();
    db.close();
  });
});
