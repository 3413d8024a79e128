// rate-limiter-flexible's SQLite limiter with its three storage hooks
// (_upsert, _get, _delete: the methods RateLimiterStoreAbstract asks every
// store to implement) run through the store's group commit. Its own hooks
// would call better-sqlite3's transaction() on the shared handle: inside an
// open group that becomes a SAVEPOINT whose promise resolves before the
// COMMIT (an attempt counted in memory only, were the COMMIT to fail), and
// they prepare their statement again at every call. The counting itself
// (points, blocks, RateLimiterRes) stays the library's; the statements are
// its own, prepared once: the upsert is one statement, so a counted attempt
// is consumed atomically, across processes too (BEGIN IMMEDIATE).
import type Database from 'better-sqlite3';
import { RateLimiterSQLite } from 'rate-limiter-flexible';
import type { GroupCommit } from './sqlite-group-commit.ts';
import type { LimiterOptions } from './store.ts';

export const LIMITER_TABLE = 'limiter_counters';

interface Counter {
  points: number;
  expire: number | null;
}

export function limiterStatements(db: Database.Database) {
  // The library's schema (key, points, expire), created as it would.
  db.exec(
    `CREATE TABLE IF NOT EXISTS ${LIMITER_TABLE} (key TEXT PRIMARY KEY, points INTEGER NOT NULL DEFAULT 0, expire INTEGER)`,
  );
  return {
    add: db.prepare<[string, number, number | null, number, number], Counter>(
      `INSERT INTO ${LIMITER_TABLE} (key, points, expire) VALUES (?, ?, ?)
       ON CONFLICT(key) DO UPDATE SET
         points = CASE WHEN expire IS NULL OR expire > ? THEN points + excluded.points ELSE excluded.points END,
         expire = CASE WHEN expire IS NULL OR expire > ? THEN expire ELSE excluded.expire END
       RETURNING points, expire`,
    ),
    set: db.prepare<[string, number, number | null], Counter>(
      `INSERT OR REPLACE INTO ${LIMITER_TABLE} (key, points, expire) VALUES (?, ?, ?) RETURNING points, expire`,
    ),
    get: db.prepare<[string, number], Counter>(
      `SELECT points, expire FROM ${LIMITER_TABLE} WHERE key = ? AND (expire > ? OR expire IS NULL)`,
    ),
    delete: db.prepare<[string]>(`DELETE FROM ${LIMITER_TABLE} WHERE key = ?`),
  };
}

export type LimiterStatements = ReturnType<typeof limiterStatements>;

// Under the store's write-behind (one process owns the file): what comes
// after a check, a reward (points given back) or a delete (a count started
// again), is held here, by counter key in order, and written with the
// store's next flush (sqlite.ts). Both only lower a count: a crash that
// loses them leaves counts higher than they should be, never lower. Any
// other use of a key (a consume, a read) first writes what is held for it,
// in the same transaction, so the counts it sees are exact.
type Deferred = { op: 'add'; points: number; expire: number | null; now: number } | { op: 'delete' };

// Counters remembered at most (DeferredCounts.seen): a flush forgets them
// all, and so does reaching this many first, as attempts that hold nothing
// (wrong PINs on many cards) schedule no flush.
const KNOWN_MAX = 10_000;

export class DeferredCounts {
  readonly #held = new Map<string, Deferred[]>();
  readonly #statements: LimiterStatements;
  // Each counter as this process last wrote or read it in the file, until
  // the next flush: a success's reset and reward (held) answer from it
  // instead of reading the counter back, which the attempt just wrote. In
  // one process nothing else changes a live counter (a purge drops only
  // expired ones, which view() already takes for none). Only what those
  // calls answer depends on it, never what is written.
  readonly #known = new Map<string, Counter | undefined>();

  constructor(statements: LimiterStatements) {
    this.#statements = statements;
  }

  hold(key: string, change: Deferred): void {
    const list = this.#held.get(key);
    if (list) list.push(change);
    else this.#held.set(key, [change]);
  }

  has(key: string): boolean {
    return this.#held.has(key);
  }

  // The live counter in the file as last seen, or `read` it (and remember
  // it); one that expired since reads as none, as the file's would.
  fileCounter(key: string, now: number, read: () => Counter | undefined): Counter | undefined {
    if (!this.#known.has(key)) return this.seen(key, read());
    const counter = this.#known.get(key);
    return counter && counter.expire !== null && counter.expire <= now ? undefined : counter;
  }

  seen(key: string, counter: Counter | undefined): Counter | undefined {
    if (this.#known.size >= KNOWN_MAX && !this.#known.has(key)) this.#known.clear();
    this.#known.set(key, counter);
    return counter;
  }

  // How many counters are remembered (bounded by KNOWN_MAX).
  get remembered(): number {
    return this.#known.size;
  }

  // A counter as it reads in the file, with what is held for its key applied
  // (what it will be once written).
  view(key: string, counter: Counter | undefined): Counter | undefined {
    let view = counter;
    for (const change of this.#held.get(key) ?? []) {
      if (change.op === 'delete') view = undefined;
      else if (!view || (view.expire !== null && view.expire <= change.now))
        view = { points: change.points, expire: change.expire };
      else view = { points: view.points + change.points, expire: view.expire };
    }
    return view;
  }

  // Inside an open transaction: writes what is held for one key.
  writeKey(key: string): void {
    const list = this.#held.get(key);
    if (!list) return;
    this.#held.delete(key);
    this.#known.delete(key);
    for (const change of list) {
      if (change.op === 'delete') this.#statements.delete.run(key);
      else this.#statements.add.get(key, change.points, change.expire, change.now, change.now);
    }
  }

  // Inside an open transaction: writes everything held (the flush), after
  // which nothing is remembered.
  writeAll(): void {
    for (const key of [...this.#held.keys()]) this.writeKey(key);
    this.#known.clear();
  }

  get size(): number {
    return this.#held.size;
  }
}

export class SqliteLimiter extends RateLimiterSQLite {
  readonly #statements: LimiterStatements;
  readonly #group: GroupCommit;
  readonly #deferred: DeferredCounts | undefined;
  readonly #held: (() => void) | undefined;

  constructor(
    db: Database.Database,
    options: LimiterOptions,
    statements: LimiterStatements,
    group: GroupCommit,
    // Write-behind: where rewards and deletes wait, and what to call when
    // one was held (schedules the store's flush).
    deferred?: { counts: DeferredCounts; held: () => void },
  ) {
    // tableCreated: limiterStatements made it; the library's constructor
    // then touches the handle no more.
    super({ ...options, storeClient: db, storeType: 'better-sqlite3', tableName: LIMITER_TABLE, tableCreated: true });
    this.#statements = statements;
    this.#group = group;
    this.#deferred = deferred?.counts;
    this.#held = deferred?.held;
  }

  // Wall clock, as the library counts (Date.now throughout).
  _upsert(key: string, points: number, msDuration: number, forceExpire = false): Promise<Counter | undefined> {
    const now = Date.now();
    const expire = msDuration > 0 ? now + msDuration : null;
    const deferred = this.#deferred;
    if (deferred && points < 0 && !forceExpire) {
      // What the count will be (the library makes its answer of it).
      const file = deferred.fileCounter(key, now, () => this.#read(key, now));
      deferred.hold(key, { op: 'add', points, expire, now });
      this.#held?.();
      return Promise.resolve(deferred.view(key, file));
    }
    return this.#group.write(() => {
      deferred?.writeKey(key);
      const counter = forceExpire
        ? this.#statements.set.get(key, points, expire)
        : this.#statements.add.get(key, points, expire, now, now);
      deferred?.seen(key, counter);
      return counter;
    });
  }

  async _get(key: string): Promise<Counter | null> {
    const deferred = this.#deferred;
    if (deferred?.has(key)) {
      return this.#group.write(() => {
        deferred.writeKey(key);
        return this.#statements.get.get(key, Date.now()) ?? null;
      });
    }
    return this.#group.read(() => this.#statements.get.get(key, Date.now()) ?? null);
  }

  // The live counter in the file, read at once.
  #read(key: string, now: number): Counter | undefined {
    return this.#group.patiently(() => this.#statements.get.get(key, now));
  }

  _delete(key: string): Promise<boolean> {
    const deferred = this.#deferred;
    if (deferred) {
      const now = Date.now();
      const had =
        deferred.view(
          key,
          deferred.fileCounter(key, now, () => this.#read(key, now)),
        ) !== undefined;
      deferred.hold(key, { op: 'delete' });
      this.#held?.();
      return Promise.resolve(had);
    }
    return this.#group.write(() => this.#statements.delete.run(key).changes > 0);
  }
}
