// The embedded default: one SQLite file (better-sqlite3, WAL). Synchronous
// calls are fine here: each is a single indexed statement well under a
// millisecond, far cheaper than the async hop a worker thread would cost.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { PatronymError } from '../errors.ts';
import { type CheckpointResult, Checkpoints } from './sqlite-checkpoints.ts';
import { GroupCommit, isBusy } from './sqlite-group-commit.ts';
import { type HeldBatch, HeldRecords, type HeldRow, isLive, heldKey as key } from './sqlite-held.ts';
import {
  DeferredCounts,
  LIMITER_TABLE,
  type LimiterStatements,
  limiterStatements,
  SqliteLimiter,
} from './sqlite-limiter.ts';
import {
  type DumpedRecord,
  epochSeconds,
  type HeldWanted,
  type LimiterOptions,
  type Payload,
  type RecordKey,
  type Store,
  type StoredRecord,
  type StoreOptions,
  type StorePeers,
} from './store.ts';

const SCHEMA_VERSION = 1;
const SCHEMA = `
CREATE TABLE IF NOT EXISTS records (
  model      TEXT NOT NULL,
  id         TEXT NOT NULL,
  payload    TEXT NOT NULL,
  grant_id   TEXT,
  uid        TEXT,
  user_code  TEXT,
  account_id TEXT,
  expires_at INTEGER,
  PRIMARY KEY (model, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS records_grant ON records (grant_id) WHERE grant_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS records_uid ON records (model, uid) WHERE uid IS NOT NULL;
CREATE INDEX IF NOT EXISTS records_user_code ON records (model, user_code) WHERE user_code IS NOT NULL;
CREATE INDEX IF NOT EXISTS records_expiry ON records (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS records_account ON records (account_id) WHERE account_id IS NOT NULL;
`;

interface Row {
  payload: string;
}

interface IdRow extends Row {
  id: string;
}

// Write-behind (issue 18): oidc-provider's records of sign-ins (an
// Interaction lives for the seconds a patron types; a code for the
// milliseconds until the vendor redeems it; a session, grant and token for
// hours) are kept in this process's memory and written to the file together,
// once a second, in one transaction: a record created and destroyed within
// that second (the Interaction of a quick sign-in) never reaches the disk,
// and a code redeemed within it is written once, consumed (a replay is
// still caught). What a crash (kill -9, power loss) can take is the last
// second of such records: sign-ins in progress start again, a session signs
// in again. What a crash must not undo is written at once, before the call
// resolves: a destroy (sign-out, "forget me", a spent Interaction) or a
// consume (a redeemed code) of a record that is already in the file.
// Patronym's own records (the throttle's counts before a check, release
// log, consent, pseudonym generations, vendors) never wait here; the
// throttle's rewards and resets do (sqlite-limiter.ts). CLI runs that share
// the file with a running broker open it without write-behind (registry.ts).
//
// Under `workers`, each worker holds the records it created, and the others
// must find them: a code issued by one worker is redeemed at another (the
// vendor's connection is not the browser's). There, `peers` is set
// (cluster.ts), and:
//  - a worker holds only records the file does not have (new ones); a
//    change to a record the file has is written through, so no worker ever
//    reads an older copy from the file while another holds a newer one;
//  - a lookup that finds nothing, here or in the file, asks the other
//    workers to write that one record if they hold it (`peers.fetch()`),
//    then reads the file again; a consume or destroy that found nothing
//    does the same. Only that record: writing everything a worker held at
//    each miss wrote most sign-ins in progress there, whose later changes
//    were then written through (issue 18: 1.5 commits per sign-in under
//    two workers against 0.6 in one process, interactions written and
//    deleted at 1.2 and 0.6 per sign-in against 0.08);
//  - a change to a record the file has drops every held copy of it, so a
//    read here meets the file's newest, not the copy of a flush written
//    but not yet committed;
//  - revocations by grant, and every query by account, list or dump, ask
//    the other workers to write first;
//  - the throttle's counts are never deferred (every worker counts).
const WRITE_BEHIND_MODELS: ReadonlySet<string> = new Set([
  'Session',
  'Interaction',
  'AuthorizationCode',
  'AccessToken',
  'RefreshToken',
  'Grant',
  'PushedAuthorizationRequest',
]);
const WRITE_BEHIND_MS = 1000;
// A burst that fills the buffer this far is written without waiting for the
// second to end (bounds the memory it holds).
const WRITE_BEHIND_MAX = 5000;

// Rows one sweep statement deletes: each batch is one statement of a
// group commit (sqlite-group-commit.ts), and the sweep waits for that
// commit (a turn of the event loop) before the next, so sign-ins (in this
// process or another on the same file) never wait behind a sweep of a
// large backlog, and no batch's rows are held in memory at once.
const SWEEP_BATCH = 500;

const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);

export interface SqliteStoreOptions extends StoreOptions {
  // Called with every statement SQLite runs, values expanded (tests count a
  // sign-in's statements and commits; payloads appear in it, so never log it).
  trace?: (sql: string) => void;
  // Keep WRITE_BEHIND_MODELS' records in memory and write them once a
  // second (see there). Only where this handle is the file's one writer.
  writeBehind?: boolean | { ms?: number; peers?: StorePeers | undefined };
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  readonly #db: Database.Database;
  readonly #now: () => number;
  readonly #stmt;
  readonly #group: GroupCommit;
  readonly #limiterStmt: LimiterStatements;
  // Write-behind: records not yet in the file, by model and id (newest
  // wins); undefined when write-behind is off.
  readonly #pending: HeldRecords | undefined;
  readonly #pendingMs: number;
  #flushTimer: NodeJS.Timeout | undefined;
  readonly #onError: ((error: unknown) => void) | undefined;
  // Write-behind of the limiters' rewards and deletes (sqlite-limiter.ts).
  readonly #counts: DeferredCounts | undefined;
  // Other workers on the file, holding records of their own.
  readonly #peers: StorePeers | undefined;
  // The latest flush, settled (never rejects).
  #lastFlush: Promise<void> = Promise.resolve();
  // The broker's handle checkpoints with the log's fsync off the event loop
  // (sqlite-checkpoints.ts); undefined where SQLite's own checkpoint runs.
  readonly #checkpoints: Checkpoints | undefined;

  constructor(path: string, options: SqliteStoreOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#pending = options.writeBehind ? new HeldRecords() : undefined;
    const writeBehind = typeof options.writeBehind === 'object' ? options.writeBehind : {};
    this.#pendingMs = writeBehind.ms ?? WRITE_BEHIND_MS;
    this.#peers = this.#pending ? writeBehind.peers : undefined;
    this.#onError = options.onError;
    if (path !== ':memory:') {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      // 0600 whatever the umask: SQLite gives the -wal and -shm files the
      // database file's mode, so creating (or tightening) it first covers all
      // three; an older installation's 0644 files are tightened too.
      closeSync(openSync(path, 'a', 0o600));
      for (const file of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(file)) chmodSync(file, 0o600);
    }
    this.#db = new Database(path, options.trace ? { verbose: (sql) => options.trace?.(String(sql)) } : {});
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = NORMAL');
    this.#db.pragma('busy_timeout = 5000');
    // Deleted rows are overwritten, so a purged record cannot be read back
    // from free pages of the file.
    this.#db.pragma('secure_delete = ON');
    this.#migrate();
    this.#limiterStmt = limiterStatements(this.#db);
    this.#counts = this.#pending && !this.#peers ? new DeferredCounts(this.#limiterStmt) : undefined;
    // The broker's handle (write-behind); a CLI command's keeps SQLite's own.
    if (this.#pending && path !== ':memory:') {
      this.#db.pragma('wal_autocheckpoint = 0');
      this.#checkpoints = new Checkpoints({
        walPath: `${path}-wal`,
        checkpoint: (mode) => this.#checkpoint(mode),
        // A failed checkpoint loses nothing: a warning, not the failed
        // write's error line, where the broker logs warnings.
        onWarning: options.onWarning ?? ((message) => this.#onError?.(new PatronymError('store_unavailable', message))),
      });
    }
    const checkpoints = this.#checkpoints;
    // Last: from here on the handle never busy-waits (sqlite-group-commit.ts).
    this.#group = new GroupCommit(this.#db, checkpoints && (() => checkpoints.committed()));
    const live = '(expires_at IS NULL OR expires_at > @now)';
    this.#stmt = {
      upsert: this.#db.prepare(
        `INSERT INTO records (model, id, payload, grant_id, uid, user_code, account_id, expires_at)
         VALUES (@model, @id, @payload, @grantId, @uid, @userCode, @accountId, @expiresAt)
         ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id,
           uid = excluded.uid, user_code = excluded.user_code, account_id = excluded.account_id,
           expires_at = excluded.expires_at`,
      ),
      find: this.#db.prepare<{ model: string; id: string; now: number }, Row>(
        `SELECT payload FROM records WHERE model = @model AND id = @id AND ${live}`,
      ),
      // INDEXED BY: without it SQLite's planner (3.54, no ANALYZE figures)
      // prefers the primary key's prefix (model = ?) and reads every
      // Session, live or expired, at each sign-in (issue 18: three times
      // the CPU per sign-in with 36,000 unswept records). Naming the index
      // also makes the statement fail to prepare if the index went missing.
      findByUid: this.#db.prepare<{ model: string; uid: string; now: number }, IdRow>(
        `SELECT id, payload FROM records INDEXED BY records_uid WHERE model = @model AND uid = @uid AND ${live}`,
      ),
      findByUserCode: this.#db.prepare<{ model: string; userCode: string; now: number }, IdRow>(
        `SELECT id, payload FROM records INDEXED BY records_user_code WHERE model = @model AND user_code = @userCode AND ${live}`,
      ),
      consume: this.#db.prepare(
        `UPDATE records SET payload = json_set(payload, '$.consumed', @at)
         WHERE model = @model AND id = @id AND json_type(payload, '$.consumed') IS NULL AND ${live}`,
      ),
      destroy: this.#db.prepare('DELETE FROM records WHERE model = @model AND id = @id'),
      // Expired or not: whether a destroy or consume must reach the file.
      exists: this.#db.prepare<{ model: string; id: string }, { one: number }>(
        'SELECT 1 AS one FROM records WHERE model = @model AND id = @id',
      ),
      revoke: this.#db.prepare('DELETE FROM records WHERE grant_id = @grantId'),
      // One statement: concurrent failures from several broker processes
      // on one file cannot lose a count.
      increment: this.#db.prepare<{ model: string; id: string; now: number; expiresAt: number }, { n: number }>(
        `INSERT INTO records (model, id, payload, expires_at) VALUES (@model, @id, '{"n":1}', @expiresAt)
         ON CONFLICT (model, id) DO UPDATE SET
           payload = CASE WHEN expires_at IS NOT NULL AND expires_at <= @now THEN '{"n":1}'
                          ELSE json_set(payload, '$.n', coalesce(json_extract(payload, '$.n'), 0) + 1) END,
           expires_at = CASE WHEN expires_at IS NOT NULL AND expires_at <= @now THEN @expiresAt ELSE expires_at END
         RETURNING json_extract(payload, '$.n') AS n`,
      ),
      list: this.#db.prepare<{ model: string; now: number }, { id: string; payload: string }>(
        `SELECT id, payload FROM records WHERE model = @model AND ${live}`,
      ),
      findByAccount: this.#db.prepare<
        { accountId: string; now: number },
        { model: string; id: string; payload: string }
      >(`SELECT model, id, payload FROM records WHERE account_id = @accountId AND ${live}`),
      // One batch, found through the expiry index (oldest first).
      sweep: this.#db.prepare<{ now: number; batch: number }, { model: string }>(
        `DELETE FROM records WHERE (model, id) IN (
           SELECT model, id FROM records INDEXED BY records_expiry
           WHERE expires_at IS NOT NULL AND expires_at <= @now ORDER BY expires_at LIMIT @batch)
         RETURNING model`,
      ),
    };
  }

  // PRAGMA user_version counts applied migrations. Version 1 added the
  // account index (databases created before it lack the column). A file
  // whose schema is complete is opened without a write (CREATE … IF NOT
  // EXISTS of what exists takes no lock): this runs before the group
  // commit, with SQLite's blocking busy wait, and a write here would stall
  // while a broker in this process (the CLI's commands in the e2e tests)
  // has a group open, whose COMMIT needs this event loop.
  #migrate(): void {
    const version = this.#db.pragma('user_version', { simple: true }) as number;
    const exists = this.#db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'records'").get();
    if (exists && version < 1) {
      const columns = this.#db.prepare<[], { name: string }>('PRAGMA table_info(records)').all();
      if (!columns.some((c) => c.name === 'account_id')) {
        this.#db.exec(`ALTER TABLE records ADD COLUMN account_id TEXT;
          UPDATE records SET account_id = json_extract(payload, '$.accountId');`);
      }
    }
    this.#db.exec(SCHEMA);
    if (version < SCHEMA_VERSION) this.#db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }

  upsert(model: string, id: string, payload: Payload, expiresIn?: number): Promise<void> {
    const row = this.#row(model, id, payload, expiresIn);
    if (this.#holdsWrite(model, id)) {
      this.#hold(row);
      return Promise.resolve();
    }
    // Written through: a copy in a flush written but not yet committed is
    // no longer the newest.
    if (this.#peers) this.#pending?.delete(key(model, id));
    return this.#group.write(() => {
      this.#stmt.upsert.run(row);
    });
  }

  #row(model: string, id: string, payload: Payload, expiresIn?: number): HeldRow {
    return {
      model,
      id,
      payload: JSON.stringify(payload),
      grantId: str(payload.grantId),
      uid: str(payload.uid),
      userCode: str(payload.userCode),
      accountId: str(payload.accountId),
      expiresAt: expiresIn === undefined ? null : this.#now() + expiresIn * 1000,
    };
  }

  #write(model: string, id: string, payload: Payload, expiresIn?: number): void {
    this.#stmt.upsert.run(this.#row(model, id, payload, expiresIn));
  }

  // ---- write-behind ----

  #buffered(model: string): boolean {
    return this.#pending !== undefined && WRITE_BEHIND_MODELS.has(model);
  }

  // Whether a write of this record is held: always in one process; with
  // peers only while the file has no copy of it (see above), which a record
  // in a flush already written but not yet committed has.
  #holdsWrite(model: string, id: string): boolean {
    if (!this.#buffered(model)) return false;
    if (!this.#peers) return true;
    return this.#pending?.isPending(key(model, id)) === true || !this.#inFile(model, id);
  }

  #hold(row: HeldRow): void {
    this.#pending?.set(key(row.model, row.id), row);
    this.#schedule();
  }

  #schedule(): void {
    if ((this.#pending?.size ?? 0) + (this.#counts?.size ?? 0) >= WRITE_BEHIND_MAX) this.#flushInBackground();
    else this.#arm();
  }

  // A flush in a second's time, unless one is already set.
  #arm(): void {
    if (this.#flushTimer || !this.#db.open) return;
    this.#flushTimer = setTimeout(() => this.#flushInBackground(), this.#pendingMs);
    this.#flushTimer.unref();
  }

  // The held record of model and id: undefined when none is held (the file
  // has the newest, if any), 'expired' when the newest has expired (the next
  // flush or sweep drops it; an older copy in the file does not count).
  #held(model: string, id: string): HeldRow | 'expired' | undefined {
    if (!this.#buffered(model)) return undefined;
    const row = this.#pending?.get(key(model, id));
    if (row && !isLive(row, this.#now())) return 'expired';
    return row;
  }

  #inFile(model: string, id: string): boolean {
    return this.#group.patiently(() => this.#stmt.exists.get({ model, id })) !== undefined;
  }

  // What this process holds and what other workers hold, written.
  async #flushAll(): Promise<void> {
    await Promise.all([this.flushPending(), this.#peers?.flush()]);
  }

  #flushInBackground(): void {
    this.flushPending().catch((error: unknown) => this.#onError?.(error));
  }

  // Writes every held record to the file in one transaction; resolves once
  // committed. Before any query that reads more than one record by its key
  // (by account, grant, uid; lists, dumps, sweeps), so those see them too.
  // A failed write keeps the records held (unless newer ones replaced them)
  // for the next try, and rejects.
  flushPending(): Promise<void> {
    if (this.#flushTimer) {
      clearTimeout(this.#flushTimer);
      this.#flushTimer = undefined;
    }
    const pending = this.#pending;
    const counts = this.#counts;
    // Nothing new: settles once the flush under way (if any) has, so that
    // what was held when this was called is in the file then.
    if (!pending || (pending.size === 0 && !counts?.size)) return this.#lastFlush;
    const settled = this.#writeBatch(pending.take(), () => counts?.writeAll());
    // Flushes commit in the order they were asked for (one handle, one
    // group commit): the last one settling means all before it have.
    this.#lastFlush = settled.catch(() => undefined);
    return settled;
  }

  // Writes of held records under way (flushes, and single records another
  // worker asked for), each settled once committed or failed.
  readonly #writing = new Set<Promise<void>>();

  // Writes a batch handed over by HeldRecords, as it is when the
  // transaction runs (records dropped or replaced meanwhile are left out:
  // sqlite-held.ts); `also` adds statements to the same transaction.
  #writeBatch({ batch, done }: HeldBatch, also?: () => void): Promise<void> {
    const written = this.#group.write(() => {
      const now = this.#now();
      for (const row of batch.values()) if (isLive(row, now)) this.#stmt.upsert.run(row);
      // Lost with the transaction if it fails: only counts that would have
      // gone down (see DeferredCounts).
      also?.();
    });
    const settled = written.then(
      () => done(false),
      (error: unknown) => {
        done(true);
        this.#arm();
        throw error;
      },
    );
    const tracked = settled.catch(() => undefined);
    this.#writing.add(tracked);
    void tracked.then(() => this.#writing.delete(tracked));
    return settled;
  }

  // Another worker missed a record this one may hold: that record is
  // written, with what the other will read next if it is held here too (a
  // code's or token's grant, and the session it was issued in, as
  // oidc-provider's token and userinfo endpoints read them), and this
  // resolves once they are in the file; at once when it is not held here.
  // The rest stays held. A record already in a write under way is answered
  // once that write settled (held again if it failed: then written now).
  async writeHeld(model: string, wanted: HeldWanted): Promise<void> {
    const pending = this.#pending;
    if (!pending || !this.#buffered(model)) return;
    for (let turn = 0; turn < 3; turn++) {
      const k = 'id' in wanted ? key(model, wanted.id) : pending.keyOfUid(model, wanted.uid);
      const row = k === undefined ? undefined : pending.get(k);
      if (k === undefined || !row) return;
      const some = pending.takeSome([k, ...this.#readNext(pending, row)]);
      if (some) return this.#writeBatch(some);
      await Promise.all(this.#writing);
    }
  }

  // The keys of the grant and the session a code or token names.
  #readNext(pending: HeldRecords, row: HeldRow): string[] {
    const next: string[] = [];
    if (row.grantId !== null) next.push(key('Grant', row.grantId));
    if (row.model === 'Session' || row.model === 'Interaction') return next;
    const { sessionUid } = JSON.parse(row.payload) as Payload;
    const session = typeof sessionUid === 'string' ? pending.keyOfUid('Session', sessionUid) : undefined;
    if (session !== undefined) next.push(session);
    return next;
  }

  update(
    model: string,
    id: string,
    change: (current: Payload | undefined) => Payload,
    expiresIn?: number,
  ): Promise<Payload> {
    // Inside the group's BEGIN IMMEDIATE: the write lock is held before the
    // read, so another process on the same file cannot slip a write in
    // between, and nothing in this one runs between read and write. If
    // `change` throws, nothing was written.
    const held = this.#held(model, id);
    if (held && this.#holdsWrite(model, id)) {
      // The newest copy is held: changed and held again at once (nothing else
      // runs in between in this process, the file's one writer).
      try {
        const payload = change(held === 'expired' ? undefined : (JSON.parse(held.payload) as Payload));
        this.#hold(this.#row(model, id, payload, expiresIn));
        return Promise.resolve(payload);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    // Written through (see upsert).
    if (this.#peers) this.#pending?.delete(key(model, id));
    return this.#group.write(() => {
      const payload = change(this.#parse(this.#stmt.find.get({ model, id, now: this.#now() })));
      this.#write(model, id, payload, expiresIn);
      return payload;
    });
  }

  #parse(row: Row | undefined): Payload | undefined {
    return row ? (JSON.parse(row.payload) as Payload) : undefined;
  }

  find(model: string, id: string): Promise<Payload | undefined> {
    return this.#orFromPeers(model, { id }, () => this.#findHere(model, id));
  }

  // One file on this machine: nothing to save by asking at once.
  findMany(keys: readonly RecordKey[]): Promise<(Payload | undefined)[]> {
    return Promise.all(keys.map((k) => this.find(k.model, k.id)));
  }

  async #findHere(model: string, id: string): Promise<Payload | undefined> {
    const held = this.#held(model, id);
    if (held) return held === 'expired' ? undefined : (JSON.parse(held.payload) as Payload);
    return this.#group.read(() => this.#parse(this.#stmt.find.get({ model, id, now: this.#now() })));
  }

  // Whether a miss of this model may be a record another worker holds.
  #fromPeers(model: string): boolean {
    return this.#peers !== undefined && this.#buffered(model);
  }

  // Tries `here`; if it found nothing and another worker may hold the
  // record, asks the other workers to write it (everything they hold when
  // the record is not named), and tries again. Not asked when the file has
  // the record by now (id known): expired or consumed there, or written by
  // another worker since the first try, which the second try then finds.
  async #orFromPeers<T>(model: string, wanted: HeldWanted | undefined, here: () => Promise<T>): Promise<T> {
    const first = await here();
    if (first || !this.#fromPeers(model)) return first;
    if (wanted === undefined) await this.#peers?.flush();
    else if (!('id' in wanted) || !this.#inFile(model, wanted.id)) await this.#peers?.fetch(model, wanted);
    return here();
  }

  // oidc-provider looks a session up by uid at every code redemption: the
  // held records are looked up first (by uid, sqlite-held.ts), then the
  // file, whose copy counts only if no newer one is held.
  findByUid(model: string, uid: string): Promise<Payload | undefined> {
    return this.#orFromPeers(model, { uid }, () => this.#findByUidHere(model, uid));
  }

  async #findByUidHere(model: string, uid: string): Promise<Payload | undefined> {
    const row = this.#buffered(model) ? this.#pending?.byUid(model, uid) : undefined;
    if (row && isLive(row, this.#now())) return JSON.parse(row.payload) as Payload;
    return this.#unlessHeld(
      model,
      await this.#group.read(() => this.#stmt.findByUid.get({ model, uid, now: this.#now() })),
    );
  }

  findByUserCode(model: string, userCode: string): Promise<Payload | undefined> {
    return this.#orFromPeers(model, undefined, () => this.#findByUserCodeHere(model, userCode));
  }

  async #findByUserCodeHere(model: string, userCode: string): Promise<Payload | undefined> {
    const held = this.#heldWhere(model, (row) => row.userCode === userCode);
    if (held) return held;
    return this.#unlessHeld(
      model,
      await this.#group.read(() => this.#stmt.findByUserCode.get({ model, userCode, now: this.#now() })),
    );
  }

  #heldWhere(model: string, match: (row: HeldRow) => boolean): Payload | undefined {
    if (!this.#buffered(model)) return undefined;
    const now = this.#now();
    for (const [, row] of (this.#pending as HeldRecords).rows()) {
      if (row.model === model && match(row) && isLive(row, now)) {
        return JSON.parse(row.payload) as Payload;
      }
    }
    return undefined;
  }

  #unlessHeld(model: string, row: IdRow | undefined): Payload | undefined {
    if (!row || this.#pending?.get(key(model, row.id))) return undefined;
    return JSON.parse(row.payload) as Payload;
  }

  // A held record is consumed here, in memory (synchronously, so of
  // concurrent consumes exactly one sees it unconsumed); if an older copy is
  // in the file already, the consumed record is written at once, so a crash
  // cannot bring it back unconsumed. Otherwise one conditional statement: of
  // concurrent consumes (in this process or another on the file) exactly one
  // changes the row.
  consume(model: string, id: string): Promise<boolean> {
    // Of concurrent second tries, too, exactly one wins.
    return this.#orFromPeers(model, { id }, () => this.#consumeHere(model, id));
  }

  #consumeHere(model: string, id: string): Promise<boolean> {
    const held = this.#held(model, id);
    if (held === 'expired') return Promise.resolve(false);
    if (held) {
      const payload = JSON.parse(held.payload) as Payload;
      if (payload.consumed !== undefined && payload.consumed !== null) return Promise.resolve(false);
      payload.consumed = epochSeconds(this.#now);
      const row = { ...held, payload: JSON.stringify(payload) };
      if (!this.#inFile(model, id)) {
        this.#pending?.set(key(model, id), row);
        return Promise.resolve(true);
      }
      this.#pending?.delete(key(model, id));
      return this.#group.write(() => {
        this.#stmt.upsert.run(row);
        return true;
      });
    }
    return this.#group.write(
      () => this.#stmt.consume.run({ model, id, at: epochSeconds(this.#now), now: this.#now() }).changes > 0,
    );
  }

  // A held record is dropped; the file is written only if it has a copy.
  destroy(model: string, id: string): Promise<void> {
    if (this.#buffered(model)) {
      const dropped = this.#pending?.delete(key(model, id));
      if (dropped && !this.#inFile(model, id)) return Promise.resolve();
    }
    const destroyed = this.#group.write(() => this.#stmt.destroy.run({ model, id }).changes > 0);
    if (!this.#fromPeers(model)) return destroyed.then(() => undefined);
    // Not in the file, nor held here: perhaps held by another worker.
    return destroyed.then(async (done) => {
      if (done) return;
      await this.#peers?.fetch(model, { id });
      await this.#group.write(() => this.#stmt.destroy.run({ model, id }));
    });
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await this.#peers?.flush();
    const pending = this.#pending;
    if (pending) for (const [k, row] of pending.rows()) if (row.grantId === grantId) pending.delete(k);
    await this.#group.write(() => {
      this.#stmt.revoke.run({ grantId });
    });
  }

  increment(model: string, id: string, expiresIn: number): Promise<number> {
    const now = this.#now();
    return this.#group.write(() => {
      const row = this.#stmt.increment.get({ model, id, now, expiresAt: now + expiresIn * 1000 });
      return Number(row?.n ?? 1);
    });
  }

  async list(model: string): Promise<StoredRecord[]> {
    if (this.#buffered(model)) await this.#flushAll();
    return this.#group.read(() =>
      this.#stmt.list
        .all({ model, now: this.#now() })
        .map((row) => ({ model, id: row.id, payload: JSON.parse(row.payload) as Payload })),
    );
  }

  // By primary key in pages of 500, so a large file is never read whole.
  async *dump(): AsyncIterable<DumpedRecord> {
    await this.#flushAll();
    const page = this.#db.prepare<
      { model: string; id: string; now: number },
      { model: string; id: string; payload: string; expires_at: number | null }
    >(
      `SELECT model, id, payload, expires_at FROM records
       WHERE (model, id) > (@model, @id) AND (expires_at IS NULL OR expires_at > @now)
       ORDER BY model, id LIMIT 500`,
    );
    let after = { model: '', id: '' };
    for (;;) {
      const rows = await this.#group.read(() => page.all({ ...after, now: this.#now() }));
      for (const row of rows) {
        const payload = JSON.parse(row.payload) as Payload;
        yield {
          model: row.model,
          id: row.id,
          payload,
          ...(row.expires_at === null ? {} : { expiresAt: row.expires_at }),
        };
      }
      const last = rows.at(-1);
      if (!last || rows.length < 500) return;
      after = { model: last.model, id: last.id };
    }
  }

  async findByAccount(accountId: string): Promise<StoredRecord[]> {
    await this.#flushAll();
    return this.#group.read(() =>
      this.#stmt.findByAccount
        .all({ accountId, now: this.#now() })
        .map((row) => ({ model: row.model, id: row.id, payload: JSON.parse(row.payload) as Payload })),
    );
  }

  // Counters go in their own table of the same file (rate-limiter-flexible's
  // schema: key, points, expire), on this store's handle and through its
  // group commit (sqlite-limiter.ts), so every process sharing the file
  // shares the counts, and a count is consumed atomically, across processes
  // too.
  async limiter(options: LimiterOptions): Promise<RateLimiterAbstract> {
    const deferred = this.#counts && { counts: this.#counts, held: () => this.#schedule() };
    return new SqliteLimiter(this.#db, options, this.#limiterStmt, this.#group, deferred);
  }

  async sweep(): Promise<Record<string, number>> {
    const removed: Record<string, number> = {};
    const now = this.#now();
    // Held records that expired before they were written: dropped here.
    const pending = this.#pending;
    if (pending) {
      for (const [k, row] of pending.rows()) {
        if (!isLive(row, now)) {
          pending.delete(k);
          removed[row.model] = (removed[row.model] ?? 0) + 1;
        }
      }
    }
    await this.flushPending();
    for (;;) {
      if (!this.#db.open) return removed;
      const rows = await this.#group.write(() => this.#stmt.sweep.all({ now, batch: SWEEP_BATCH }));
      for (const row of rows) removed[row.model] = (removed[row.model] ?? 0) + 1;
      if (rows.length < SWEEP_BATCH) break;
    }
    // Spent limiter counters (rate-limiter-flexible expires on the wall
    // clock, hence Date.now), in batches too. Its table has a rowid and no
    // index on expire: each batch reads rows in rowid order and stops at the
    // batch's end.
    const spent = this.#db.prepare(
      `DELETE FROM ${LIMITER_TABLE} WHERE rowid IN (
         SELECT rowid FROM ${LIMITER_TABLE} WHERE expire IS NOT NULL AND expire <= ? LIMIT ?)`,
    );
    const wallNow = Date.now();
    while (this.#db.open && (await this.#group.write(() => spent.run(wallNow, SWEEP_BATCH).changes)) === SWEEP_BATCH);
    return removed;
  }

  // How SQLite runs each of this store's statements (EXPLAIN QUERY PLAN,
  // one line per statement): what the tests and the bench check, so that
  // no statement a sign-in runs reads more than the rows it is about.
  queryPlans(): Record<string, string> {
    const values = {
      model: 'm',
      id: 'i',
      uid: 'u',
      userCode: 'c',
      grantId: 'g',
      accountId: 'a',
      payload: '{}',
      expiresAt: 0,
      now: 0,
      at: 0,
      batch: 1,
    };
    const plans: Record<string, string> = {};
    for (const [name, statement] of Object.entries(this.#stmt)) {
      const rows = this.#db.prepare<typeof values, { detail: string }>(`EXPLAIN QUERY PLAN ${statement.source}`);
      plans[name] = rows
        .all(values)
        .map((row) => row.detail)
        .join('; ');
    }
    return plans;
  }

  async scrub(): Promise<void> {
    await this.flushPending();
    // secure_delete has zeroed deleted cells in the pages written since;
    // TRUNCATE copies them into the database and empties the log (which it
    // cannot do inside the open group).
    if (this.#checkpoints) await this.#checkpoints.now('TRUNCATE');
    else this.#group.checkpoint('TRUNCATE');
  }

  // Outside any transaction. PASSIVE is SQLite's automatic checkpoint: it
  // never waits, and leaves what another handle still reads (or what
  // another process's checkpoint is copying) to the next one.
  async #checkpoint(mode: 'PASSIVE' | 'TRUNCATE'): Promise<CheckpointResult | undefined> {
    if (!this.#db.open) return undefined; // closed while the log was fsynced
    if (mode === 'TRUNCATE') {
      this.#group.checkpoint(mode);
      return undefined;
    }
    return this.#group.whenIdle(() => {
      if (!this.#db.open) return undefined;
      try {
        const [result] = this.#db.pragma('wal_checkpoint(PASSIVE)') as CheckpointResult[];
        return result;
      } catch (error) {
        if (!isBusy(error)) throw error;
        return undefined;
      }
    });
  }

  async close(): Promise<void> {
    if (!this.#db.open) return;
    // Held records are written (and committed by the flush below) first.
    const held = this.flushPending();
    this.#group.flush();
    try {
      await held;
      await this.#checkpoints?.settled();
    } finally {
      clearTimeout(this.#flushTimer);
      this.#db.close();
    }
  }
}
