// The shared store: PostgreSQL through a node-postgres pool, so several
// broker processes on several machines see one state. Same table shape and
// semantics as the SQLite store (checked by the same conformance suite).
//
// Time comes from the store's clock, passed as a parameter, never the
// database's now(): the conformance suite runs on a fake clock, and broker
// machines keep their clocks in step anyway (tokens carry their times).
//
// The pool is opened at once but the schema is checked and migrated in the
// background; every call waits for that, and `ready()` lets main.ts fail at
// start-up rather than at the first sign-in.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { type RateLimiterAbstract, RateLimiterPostgres } from 'rate-limiter-flexible';
import { PatronymError } from '../errors.ts';
import { migrate } from './postgres-schema.ts';
import {
  type DumpedRecord,
  epochSeconds,
  type LimiterOptions,
  type Payload,
  type RecordKey,
  type Store,
  type StoredRecord,
  type StoreOptions,
} from './store.ts';

export interface PostgresStoreOptions extends StoreOptions {
  url: string;
  password?: string;
  poolSize?: number;
  tls?: { ca?: string; rejectUnauthorized?: boolean; servername?: string };
  // How many expired rows one sweep statement deletes (small batches keep
  // each statement's locks short, so sign-ins never wait behind a sweep).
  sweepBatch?: number;
}

// PostgreSQL text cannot hold NUL; ids are opaque to callers, so they are
// stored escaped (backslash first, so the mapping is one-to-one).
const encodeId = (id: string): string => id.replace(/\\/g, '\\\\').replace(/\0/g, '\\0');
const decodeId = (id: string): string => id.replace(/\\(\\|0)/g, (_, c: string) => (c === '0' ? '\0' : '\\'));

// The same for the indexed copies of payload fields (uid, grantId, …).
const column = (value: unknown): string | null => (typeof value === 'string' ? encodeId(value) : null);

// jsonb cannot hold NUL either, and a vendor may put one in a nonce or a
// state. A string holding one (or starting with MARK, so that the mapping
// stays one-to-one) is stored as MARK followed by its JSON text.
const MARK = '\uE000nul:';
const toJson = (payload: Payload): string =>
  JSON.stringify(payload, (_key, value: unknown) =>
    typeof value === 'string' && (value.includes('\0') || value.startsWith(MARK))
      ? MARK + JSON.stringify(value)
      : value,
  );
const fromJson = (text: string): Payload =>
  (text.includes(MARK)
    ? JSON.parse(text, (_key, value: unknown) =>
        typeof value === 'string' && value.startsWith(MARK) ? JSON.parse(value.slice(MARK.length)) : value,
      )
    : JSON.parse(text)) as Payload;
const LIVE = '(expires_at IS NULL OR expires_at > $NOW)';

// Writes one record; `$1…$8` as in `#row()`.
const INSERT = `INSERT INTO records (model, id, payload, grant_id, uid, user_code, account_id, expires_at)
  VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8)`;
const UPSERT = `${INSERT} ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id,
    uid = excluded.uid, user_code = excluded.user_code, account_id = excluded.account_id,
    expires_at = excluded.expires_at`;

const UPDATE_IF_UNCHANGED = `UPDATE records SET payload = $3::jsonb, grant_id = $4, uid = $5, user_code = $6,
  account_id = $7, expires_at = $8 WHERE model = $1 AND id = $2 AND xmin = $9::text::xid`;

class UpdateRaced extends Error {}

// Every statement is a named (server-side prepared) one: parsed and planned
// once per connection instead of at every call, about a third of the
// database's CPU per sign-in. The name is the text's hash.
const names = new Map<string, string>();
function prepared(text: string, values: unknown[]): pg.QueryConfig {
  let name = names.get(text);
  if (!name) {
    name = `patronym_${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
    names.set(text, name);
  }
  return { name, text, values };
}

export class PostgresStore implements Store {
  readonly kind = 'postgres';
  readonly #pool: pg.Pool;
  readonly #now: () => number;
  readonly #ready: Promise<void>;
  readonly #sweepBatch: number;

  constructor(options: PostgresStoreOptions) {
    this.#now = options.now ?? Date.now;
    this.#sweepBatch = options.sweepBatch ?? 500;
    const tls = options.tls;
    this.#pool = new pg.Pool({
      connectionString: withPassword(options.url, options.password),
      max: options.poolSize ?? 10,
      ...(tls
        ? {
            ssl: {
              rejectUnauthorized: tls.rejectUnauthorized ?? true,
              ...(tls.ca ? { ca: readFileSync(tls.ca, 'utf8') } : {}),
              ...(tls.servername ? { servername: tls.servername } : {}),
            },
          }
        : {}),
      // A connection the database dropped (restart, failover) is replaced,
      // not handed out again.
      idleTimeoutMillis: 30_000,
      connectionTimeoutMillis: 10_000,
    });
    // An idle client losing its connection emits 'error' on the pool; the
    // next query gets a fresh connection, so it is no reason to crash.
    this.#pool.on('error', () => {});
    this.#ready = this.#open(options.url);
    this.#ready.catch(() => {}); // reported by ready() and by every call
  }

  async #open(url: string): Promise<void> {
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      throw new PatronymError('store_unavailable', `store: cannot connect to postgres at "${redact(url)}"`, {
        cause: error,
      });
    }
    try {
      await migrate(client);
    } finally {
      client.release();
    }
  }

  // Resolves once the database answers and its schema is current.
  ready(): Promise<void> {
    return this.#ready;
  }

  async #query<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    await this.#ready;
    return this.#pool.query<R>(prepared(text, values));
  }

  #time(ms: number): Date {
    return new Date(ms);
  }

  #row(model: string, id: string, payload: Payload, expiresIn?: number): unknown[] {
    return [
      model,
      encodeId(id),
      toJson(payload),
      column(payload.grantId),
      column(payload.uid),
      column(payload.userCode),
      column(payload.accountId),
      expiresIn === undefined ? null : this.#time(this.#now() + expiresIn * 1000),
    ];
  }

  async upsert(model: string, id: string, payload: Payload, expiresIn?: number): Promise<void> {
    await this.#query(UPSERT, this.#row(model, id, payload, expiresIn));
  }

  async #one(where: string, values: unknown[]): Promise<Payload | undefined> {
    const now = `$${values.length + 1}`;
    const { rows } = await this.#query<{ payload: string }>(
      `SELECT payload::text AS payload FROM records WHERE ${where} AND ${LIVE.replace('$NOW', now)} LIMIT 1`,
      [...values, this.#time(this.#now())],
    );
    return rows[0] ? fromJson(rows[0].payload) : undefined;
  }

  async find(model: string, id: string): Promise<Payload | undefined> {
    return this.#one('model = $1 AND id = $2', [model, encodeId(id)]);
  }

  // One statement: a primary-key lookup per key, joined by UNION ALL, so
  // that each is an index search whatever the table's statistics say (the
  // plan of an `IN (SELECT … unnest(…))` depends on them).
  async findMany(keys: readonly RecordKey[]): Promise<(Payload | undefined)[]> {
    if (keys.length === 0) return [];
    const now = `$${2 * keys.length + 1}`;
    const text = keys
      .map(
        (_, i) =>
          `SELECT ${i} AS i, payload::text AS payload FROM records WHERE model = $${2 * i + 1} AND id = $${2 * i + 2} AND ${LIVE.replace('$NOW', now)}`,
      )
      .join(' UNION ALL ');
    const { rows } = await this.#query<{ i: number; payload: string }>(text, [
      ...keys.flatMap((k) => [k.model, encodeId(k.id)]),
      this.#time(this.#now()),
    ]);
    const found: (Payload | undefined)[] = keys.map(() => undefined);
    for (const row of rows) found[row.i] = fromJson(row.payload);
    return found;
  }

  async findByUid(model: string, uid: string): Promise<Payload | undefined> {
    return this.#one('model = $1 AND uid = $2', [model, encodeId(uid)]);
  }

  async findByUserCode(model: string, userCode: string): Promise<Payload | undefined> {
    return this.#one('model = $1 AND user_code = $2', [model, encodeId(userCode)]);
  }

  // Optimistic first: read the row with its version (PostgreSQL's xmin,
  // which every write of the row changes) and write only if it is
  // unchanged — two statements, no transaction, the usual case of a
  // sign-in. If another write came in between, the update runs again,
  // this time queued behind the row lock, so heavy contention on one
  // record costs one wasted read per writer rather than endless retries.
  async update(
    model: string,
    id: string,
    change: (current: Payload | undefined) => Payload,
    expiresIn?: number,
  ): Promise<Payload> {
    const { rows } = await this.#query<{ payload: string; expires_at: Date | null; version: string }>(
      'SELECT payload::text AS payload, expires_at, xmin::text AS version FROM records WHERE model = $1 AND id = $2',
      [model, encodeId(id)],
    );
    const found = rows[0];
    const payload = change(this.#liveOrUndefined(found));
    const values = this.#row(model, id, payload, expiresIn);
    const written = found
      ? await this.#query(UPDATE_IF_UNCHANGED, [...values, found.version])
      : await this.#query(`${INSERT} ON CONFLICT DO NOTHING`, values);
    if (written.rowCount === 1) return structuredClone(payload);
    return this.#lockedUpdate(model, id, change, expiresIn);
  }

  #liveOrUndefined(found: { payload: string; expires_at: Date | null } | undefined): Payload | undefined {
    const live = found && (found.expires_at === null || found.expires_at.getTime() > this.#now());
    return live ? fromJson(found.payload) : undefined;
  }

  // A transaction holding the row lock (SELECT … FOR UPDATE) from the read
  // to the write, so concurrent updates from any instance queue up and none
  // is lost. A missing row cannot be locked: the insert then uses ON
  // CONFLICT DO NOTHING, and if another transaction inserted first the whole
  // update runs again against its row.
  async #lockedUpdate(
    model: string,
    id: string,
    change: (current: Payload | undefined) => Payload,
    expiresIn?: number,
  ): Promise<Payload> {
    for (;;) {
      const client = await this.#pool.connect();
      try {
        await client.query('BEGIN');
        const { rows } = await client.query<{ payload: string; expires_at: Date | null }>(
          prepared('SELECT payload::text AS payload, expires_at FROM records WHERE model = $1 AND id = $2 FOR UPDATE', [
            model,
            encodeId(id),
          ]),
        );
        const found = rows[0];
        const payload = change(this.#liveOrUndefined(found));
        const values = this.#row(model, id, payload, expiresIn);
        if (found) {
          await client.query(prepared(UPSERT, values));
        } else {
          const inserted = await client.query(prepared(`${INSERT} ON CONFLICT DO NOTHING`, values));
          if (inserted.rowCount === 0) throw new UpdateRaced();
        }
        await client.query('COMMIT');
        return structuredClone(payload);
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        if (!(error instanceof UpdateRaced)) throw error;
      } finally {
        client.release();
      }
    }
  }

  // One statement, so of two instances consuming at once one wins (the
  // other's UPDATE waits for the row, re-checks the condition, finds it
  // consumed and changes nothing).
  async consume(model: string, id: string): Promise<boolean> {
    const { rowCount } = await this.#query(
      `UPDATE records SET payload = payload || jsonb_build_object('consumed', $3::bigint)
        WHERE model = $1 AND id = $2 AND NOT payload ? 'consumed' AND ${LIVE.replace('$NOW', '$4')}`,
      [model, encodeId(id), epochSeconds(this.#now), this.#time(this.#now())],
    );
    return (rowCount ?? 0) > 0;
  }

  async destroy(model: string, id: string): Promise<void> {
    await this.#query('DELETE FROM records WHERE model = $1 AND id = $2', [model, encodeId(id)]);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await this.#query('DELETE FROM records WHERE grant_id = $1', [encodeId(grantId)]);
  }

  async #many(where: string, values: unknown[]): Promise<StoredRecord[]> {
    const now = `$${values.length + 1}`;
    const { rows } = await this.#query<{ model: string; id: string; payload: string }>(
      `SELECT model, id, payload::text AS payload FROM records WHERE ${where} AND ${LIVE.replace('$NOW', now)} ORDER BY model, id`,
      [...values, this.#time(this.#now())],
    );
    return rows.map((row) => ({ model: row.model, id: decodeId(row.id), payload: fromJson(row.payload) }));
  }

  // By primary key in pages of 500 (keyset paging: each page one short
  // indexed query, however large the table).
  async *dump(): AsyncIterable<DumpedRecord> {
    let after = { model: '', id: '' };
    for (;;) {
      const { rows } = await this.#query<{ model: string; id: string; payload: string; expires_at: Date | null }>(
        `SELECT model, id, payload::text AS payload, expires_at FROM records
          WHERE (model, id) > ($1, $2) AND ${LIVE.replace('$NOW', '$3')}
          ORDER BY model, id LIMIT 500`,
        [after.model, after.id, this.#time(this.#now())],
      );
      for (const row of rows) {
        yield {
          model: row.model,
          id: decodeId(row.id),
          payload: fromJson(row.payload),
          ...(row.expires_at === null ? {} : { expiresAt: row.expires_at.getTime() }),
        };
      }
      const last = rows.at(-1);
      if (!last || rows.length < 500) return;
      after = { model: last.model, id: last.id };
    }
  }

  async findByAccount(accountId: string): Promise<StoredRecord[]> {
    return this.#many('account_id = $1', [encodeId(accountId)]);
  }

  async list(model: string): Promise<StoredRecord[]> {
    return this.#many('model = $1', [model]);
  }

  // One statement (INSERT … ON CONFLICT DO UPDATE takes the row lock), so
  // concurrent increments from any instance cannot lose a count.
  async increment(model: string, id: string, expiresIn: number): Promise<number> {
    const now = this.#now();
    const { rows } = await this.#query<{ n: number }>(
      `INSERT INTO records (model, id, payload, expires_at) VALUES ($1, $2, '{"n":1}', $4)
       ON CONFLICT (model, id) DO UPDATE SET
         payload = CASE WHEN records.expires_at IS NOT NULL AND records.expires_at <= $3 THEN '{"n":1}'::jsonb
                        ELSE records.payload || jsonb_build_object('n', coalesce((records.payload->>'n')::bigint, 0) + 1) END,
         expires_at = CASE WHEN records.expires_at IS NOT NULL AND records.expires_at <= $3 THEN $4
                           ELSE records.expires_at END
       RETURNING (payload->>'n')::bigint AS n`,
      [model, encodeId(id), this.#time(now), this.#time(now + expiresIn * 1000)],
    );
    return Number(rows[0]?.n ?? 1);
  }

  // rate-limiter-flexible's own table layout, created by migration 2 under
  // the migration lock (its own CREATE TABLE IF NOT EXISTS races between
  // instances starting together), hence `tableCreated`. Its upsert is one
  // INSERT … ON CONFLICT statement: atomic across instances.
  async limiter(options: LimiterOptions): Promise<RateLimiterAbstract> {
    await this.#ready;
    return new RateLimiterPostgres({
      ...options,
      storeClient: this.#pool,
      storeType: 'pool',
      tableName: 'limiter_counters',
      tableCreated: true,
    });
  }

  // Expired rows in batches, each its own short statement; rows a sign-in
  // holds locked are skipped (the next sweep gets them), so the sweep never
  // makes a sign-in wait. `ctid = ANY(ARRAY(…))` makes each batch a TID
  // scan of the rows the expiry index found; `ctid IN (…)` was planned as
  // a hash join over a sequential scan, each batch reading the whole table.
  async sweep(): Promise<Record<string, number>> {
    const removed: Record<string, number> = {};
    const now = this.#time(this.#now());
    for (;;) {
      const { rows } = await this.#query<{ model: string }>(
        `DELETE FROM records WHERE ctid = ANY(ARRAY(
           SELECT ctid FROM records WHERE expires_at IS NOT NULL AND expires_at <= $1
           LIMIT $2 FOR UPDATE SKIP LOCKED))
         RETURNING model`,
        [now, this.#sweepBatch],
      );
      for (const row of rows) removed[row.model] = (removed[row.model] ?? 0) + 1;
      if (rows.length < this.#sweepBatch) break;
    }
    // Spent limiter counters; rate-limiter-flexible expires on the wall
    // clock (epoch ms in a bigint), hence Date.now.
    for (;;) {
      const { rowCount } = await this.#query(
        `DELETE FROM limiter_counters WHERE ctid = ANY(ARRAY(
           SELECT ctid FROM limiter_counters WHERE expire IS NOT NULL AND expire <= $1
           LIMIT $2 FOR UPDATE SKIP LOCKED))`,
        [Date.now(), this.#sweepBatch],
      );
      if ((rowCount ?? 0) < this.#sweepBatch) break;
    }
    return removed;
  }

  // How PostgreSQL runs every statement this process has sent so far, as
  // the generic plan a prepared statement settles on (EXPLAIN EXECUTE with
  // plan_cache_mode forced to generic, so the values do not matter): the
  // tests and the bench check that no statement of a sign-in reads a
  // model's rows, expired or live, beyond the ones it is about.
  async queryPlans(): Promise<Record<string, string>> {
    await this.#ready;
    const client = await this.#pool.connect();
    const plans: Record<string, string> = {};
    try {
      await client.query('BEGIN');
      await client.query('SET LOCAL plan_cache_mode = force_generic_plan');
      for (const text of names.keys()) {
        const count = Math.max(0, ...[...text.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])));
        await client.query(`PREPARE patronym_explain AS ${text}`);
        const args = count ? `(${Array(count).fill('NULL').join(', ')})` : '';
        const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN EXECUTE patronym_explain${args}`);
        plans[text.replace(/\s+/g, ' ')] = rows.map((row) => row['QUERY PLAN'].trim()).join('; ');
        await client.query('DEALLOCATE patronym_explain');
      }
    } finally {
      await client.query('ROLLBACK').catch(() => {});
      client.release();
    }
    return plans;
  }

  // A no-op here. PostgreSQL keeps deleted row versions in the table's
  // pages until VACUUM reclaims them (autovacuum does, soon after a sweep);
  // forcing VACUUM from a request would take locks and I/O on a database the
  // library may share with other systems, and could not reach the WAL
  // archive or replicas anyway. The database's own retention (WAL, backups)
  // is the DBA's to set; the README's deployment section says so.
  async scrub(): Promise<void> {}

  async close(): Promise<void> {
    await this.#ready.catch(() => {});
    if (!this.#pool.ended) await this.#pool.end();
  }
}

// node-postgres lets the URL's fields override separate options (a URL
// without a password would unset one given beside it), so the password
// from the configuration's secret goes into the URL it connects with.
function withPassword(url: string, password: string | undefined): string {
  if (password === undefined) return url;
  const parsed = new URL(url);
  parsed.password = encodeURIComponent(password);
  return parsed.toString();
}

// The URL without its password, for messages.
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable url)';
  }
}
