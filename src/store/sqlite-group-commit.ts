// Group commit for the SQLite store (issue 18). A sign-in made 14 writes,
// each its own WAL commit (~80 µs of CPU each, every touched page of the
// table and its indexes written again). Writes that arrive in the same turn
// of the event loop now share one transaction: the first opens it with
// BEGIN IMMEDIATE (the file's write lock, so no other process writes in
// between), a setImmediate commits it, and each write's promise settles
// only after that COMMIT: no response ever rests on an uncommitted write,
// and another process on the file sees everything a response promised.
//
// A write is run at once, synchronously, inside the open transaction, so a
// read-change-write (update) or a conditional write (consume, increment)
// stays atomic: nothing else runs between its statements in this process,
// and no other process can write while the lock is held. Every write here
// is one statement (update's read before it changes nothing), and SQLite
// undoes a failed statement alone, so a failing write fails only its own
// caller; an error that ends the whole transaction (SQLITE_FULL, an I/O
// error) fails every write of the group, as does a failing COMMIT.
//
// The write lock is asked for without SQLite's busy wait, which would block
// this whole process (up to busy_timeout) while another process on the file
// holds the lock, or for good when the holder is another handle in this
// very process, whose COMMIT waits for this event loop. When the lock is
// taken, writes queue (in order) and the lock is asked for again on a timer
// until it is free, for at most LOCK_WAIT_MS. So the handle's busy_timeout
// is 0 from here on (switching it per BEGIN costs two compiled PRAGMAs,
// 40 µs, more than a grouped write saves); the rare read that meets a lock
// (a WAL recovery in another process) is run again with SQLite's busy
// wait (`patiently`).
//
// Reads run at once too and see this process's pending writes; a read made
// while a group is open settles after it commits (and fails with it), for
// the same reason as the writes.
import type Database from 'better-sqlite3';
import { describeError, PatronymError } from '../errors.ts';

const LOCK_WAIT_MS = 5000;

export const isBusy = (error: unknown): boolean => {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
};

interface Job {
  run(): void;
  reject(error: unknown): void;
}

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

export class GroupCommit {
  readonly #db: Database.Database;
  readonly #begin: Database.Statement;
  readonly #commit: Database.Statement;
  readonly #rollback: Database.Statement;
  // The open group's callers; undefined when no transaction is open.
  #group: Waiter[] | undefined;
  // Writes waiting for the lock, in order; undefined when none wait.
  #queue: Job[] | undefined;
  #waitingSince = 0;
  // Work for when no transaction is open (a checkpoint), in order.
  #idle: (() => void)[] = [];
  // After each COMMIT (sqlite-checkpoints.ts counts them).
  readonly #committed: (() => void) | undefined;

  constructor(db: Database.Database, committed?: () => void) {
    this.#db = db;
    this.#committed = committed;
    this.#begin = db.prepare('BEGIN IMMEDIATE');
    this.#commit = db.prepare('COMMIT');
    this.#rollback = db.prepare('ROLLBACK');
    db.pragma('busy_timeout = 0');
  }

  // Runs `work` (synchronous statements) in the open group, opening one if
  // none is; resolves with its result once the group committed.
  write<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const job = { run: () => this.#run(work, resolve, reject), reject };
      if (this.#queue) this.#queue.push(job);
      else if (this.#group || this.#tryOpen()) job.run();
      else {
        this.#queue = [job];
        this.#waitingSince = Date.now();
        this.#retry(1);
      }
    });
  }

  #run<T>(work: () => T, resolve: (value: T) => void, reject: (error: unknown) => void): void {
    const group = this.#group;
    if (!group) {
      // Unreachable: every caller opened the group first.
      reject(new Error('sqlite: no open transaction'));
      return;
    }
    let value: T;
    try {
      value = work();
    } catch (error) {
      // SQLite rolled the whole transaction back (not just the statement):
      // the writes already in it are gone with it.
      if (!this.#db.inTransaction) this.#settle(group, error);
      reject(error);
      return;
    }
    group.push({ resolve: () => resolve(value), reject });
  }

  // Runs a read now: its value as is when no group is open, else once the
  // group it may have read from committed.
  read<T>(work: () => T): T | Promise<T> {
    const value = this.patiently(work);
    const group = this.#group;
    if (!group) return value;
    return new Promise<T>((resolve, reject) => group.push({ resolve: () => resolve(value), reject }));
  }

  // Runs `work` (synchronous, no write), and again with SQLite's busy wait
  // (up to LOCK_WAIT_MS, blocking) if it met a lock.
  patiently<T>(work: () => T): T {
    try {
      return work();
    } catch (error) {
      if (!isBusy(error)) throw error;
    }
    return this.#waiting(work);
  }

  // With SQLite's busy wait (a checkpoint waits for readers with it).
  #waiting<T>(work: () => T): T {
    // Not a prepared statement: this pragma acts when it is compiled.
    this.#db.pragma(`busy_timeout = ${LOCK_WAIT_MS}`);
    try {
      return work();
    } finally {
      this.#db.pragma('busy_timeout = 0');
    }
  }

  // A checkpoint (wal_checkpoint waits for readers with the busy handler).
  checkpoint(mode: 'TRUNCATE'): void {
    this.flush();
    this.#waiting(() => this.#db.pragma(`wal_checkpoint(${mode})`));
  }

  // Commits the open group now, and the writes waiting for the lock after
  // waiting for it as long as busy_timeout says (before a checkpoint or
  // closing the handle).
  flush(): void {
    if (this.#group) this.#end(this.#group);
    const queue = this.#queue;
    if (!queue) return;
    this.#queue = undefined;
    try {
      this.patiently(() => this.#begin.run());
    } catch (error) {
      for (const job of queue) job.reject(error);
      this.#runIdle();
      return;
    }
    this.#opened();
    for (const job of queue) {
      if (this.#group) job.run();
      else job.reject(new PatronymError('store_unavailable', 'sqlite: transaction rolled back while flushing'));
    }
    if (this.#group) this.#end(this.#group);
  }

  // BEGIN IMMEDIATE without waiting: false when another handle holds the lock.
  #tryOpen(): boolean {
    try {
      this.#begin.run();
    } catch (error) {
      if (isBusy(error)) return false;
      throw error;
    }
    this.#opened();
    return true;
  }

  #opened(): void {
    const group: Waiter[] = [];
    this.#group = group;
    setImmediate(() => this.#end(group));
  }

  #retry(delayMs: number): void {
    setTimeout(() => {
      const queue = this.#queue;
      if (!queue) return; // flushed meanwhile
      try {
        while (queue.length > 0) {
          if (!this.#group && !this.#tryOpen()) {
            if (Date.now() - this.#waitingSince < LOCK_WAIT_MS) return this.#retry(Math.min(delayMs * 2, 20));
            throw new PatronymError(
              'store_unavailable',
              `sqlite: write lock still taken after ${LOCK_WAIT_MS} ms (${queue.length} writes waiting)`,
            );
          }
          queue.shift()?.run();
        }
        this.#queue = undefined;
      } catch (error) {
        this.#queue = undefined;
        for (const job of queue) job.reject(error);
        this.#runIdle();
      }
    }, delayMs);
  }

  #end(group: Waiter[]): void {
    if (this.#group !== group) return; // already flushed, or failed
    try {
      // Closed or rolled back under us: these writes are not in the file.
      if (!this.#db.open || !this.#db.inTransaction) throw new Error('transaction no longer open');
      this.#commit.run();
    } catch (cause) {
      try {
        if (this.#db.open && this.#db.inTransaction) this.#rollback.run();
      } catch {
        // The ROLLBACK's own failure says nothing the COMMIT's did not.
      }
      const message = `sqlite: commit of ${group.length} grouped statements failed (${describeError(cause)})`;
      this.#settle(group, new PatronymError('store_unavailable', message, { cause }));
      return;
    }
    this.#settle(group);
    this.#committed?.();
  }

  #settle(group: Waiter[], error?: unknown): void {
    if (this.#group === group) this.#group = undefined;
    for (const waiter of group) {
      if (error === undefined) waiter.resolve();
      else waiter.reject(error);
    }
    this.#runIdle();
  }

  // Runs `work` (synchronous, outside any transaction: a checkpoint) now if
  // no group is open and no write waits, else once they have gone.
  whenIdle<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#idle.push(() => {
        try {
          resolve(work());
        } catch (error) {
          reject(error);
        }
      });
      this.#runIdle();
    });
  }

  #runIdle(): void {
    if (this.#group || this.#queue || this.#idle.length === 0) return;
    const work = this.#idle;
    this.#idle = [];
    for (const run of work) run();
  }
}
