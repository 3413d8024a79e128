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

export class SqliteLimiter extends RateLimiterSQLite {
  readonly #statements: LimiterStatements;
  readonly #group: GroupCommit;

  constructor(db: Database.Database, options: LimiterOptions, statements: LimiterStatements, group: GroupCommit) {
    // tableCreated: limiterStatements made it; the library's constructor
    // then touches the handle no more.
    super({ ...options, storeClient: db, storeType: 'better-sqlite3', tableName: LIMITER_TABLE, tableCreated: true });
    this.#statements = statements;
    this.#group = group;
  }

  // Wall clock, as the library counts (Date.now throughout).
  _upsert(key: string, points: number, msDuration: number, forceExpire = false): Promise<Counter | undefined> {
    const now = Date.now();
    const expire = msDuration > 0 ? now + msDuration : null;
    return this.#group.write(() =>
      forceExpire
        ? this.#statements.set.get(key, points, expire)
        : this.#statements.add.get(key, points, expire, now, now),
    );
  }

  async _get(key: string): Promise<Counter | null> {
    return this.#group.read(() => this.#statements.get.get(key, Date.now()) ?? null);
  }

  _delete(key: string): Promise<boolean> {
    return this.#group.write(() => this.#statements.delete.run(key).changes > 0);
  }
}
