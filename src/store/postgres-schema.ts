// The PostgreSQL store's schema, as numbered migrations. The database says
// which it has in `patronym_schema`; a broker applies the ones it lacks at
// start-up, under an advisory lock so that two instances starting together
// do not both try, and refuses a database migrated by a newer broker (its
// records may mean something this one does not know).
import type { PoolClient } from 'pg';
import { PatronymError } from '../errors.ts';

// Append only: a released migration is never edited, the next one fixes it.
const MIGRATIONS: readonly string[] = [
  // 1: one table for every model, as in the SQLite store. The partial
  // indexes serve the adapter's lookups; expires_at serves the sweep, and
  // every lookup filters on it so an expired record is never returned.
  `CREATE TABLE records (
     model      text NOT NULL,
     id         text NOT NULL,
     payload    jsonb NOT NULL,
     grant_id   text,
     uid        text,
     user_code  text,
     account_id text,
     expires_at timestamptz,
     PRIMARY KEY (model, id)
   );
   CREATE INDEX records_grant ON records (grant_id) WHERE grant_id IS NOT NULL;
   CREATE INDEX records_uid ON records (model, uid) WHERE uid IS NOT NULL;
   CREATE INDEX records_user_code ON records (model, user_code) WHERE user_code IS NOT NULL;
   CREATE INDEX records_expiry ON records (expires_at) WHERE expires_at IS NOT NULL;
   CREATE INDEX records_account ON records (account_id) WHERE account_id IS NOT NULL;`,
  // 2: the throttle's counters, in rate-limiter-flexible's own layout
  // (RateLimiterPostgres). Created here, under the lock, because its own
  // CREATE TABLE IF NOT EXISTS races when two instances start together.
  `CREATE TABLE limiter_counters (
     key    varchar(255) PRIMARY KEY,
     points integer NOT NULL DEFAULT 0,
     expire bigint
   );
   CREATE INDEX limiter_counters_expire ON limiter_counters (expire) WHERE expire IS NOT NULL;`,
];

// Any fixed number: the key of the session-wide lock that serialises
// migrations between broker instances ("patronym" in ASCII, truncated).
const MIGRATION_LOCK = 0x7061_7472_6f6e;

export async function migrate(client: PoolClient, migrations: readonly string[] = MIGRATIONS): Promise<number> {
  await client.query('BEGIN');
  try {
    // A transaction-scoped lock: released by COMMIT or ROLLBACK, and by the
    // server if this process dies half-way.
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(
      `CREATE TABLE IF NOT EXISTS patronym_schema (
         version    integer PRIMARY KEY,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const { rows } = await client.query<{ version: number | null }>(
      'SELECT max(version) AS version FROM patronym_schema',
    );
    const current = rows[0]?.version ?? 0;
    if (current > migrations.length) {
      throw new PatronymError(
        'store_schema_newer',
        `store: postgres schema version ${current} is newer than this broker knows (${migrations.length}); upgrade the broker or use another database`,
      );
    }
    for (let version = current + 1; version <= migrations.length; version++) {
      await client.query(migrations[version - 1] as string);
      await client.query('INSERT INTO patronym_schema (version) VALUES ($1)', [version]);
    }
    await client.query('COMMIT');
    return migrations.length;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}
