// Where all broker state lives: oidc-provider's models (Session, Interaction,
// AuthorizationCode, tokens, Grant, …) and Patronym's own records (Account,
// later throttling counters and the release log). Every implementation runs
// test/conformance/store.suite.ts.
//
// Payloads hold no patron data: patrons appear only as accountIds (keyed
// hashes). Expiry is part of the contract: an expired record is never
// returned, and sweep() deletes it.

import type { RateLimiterAbstract } from 'rate-limiter-flexible';

export type Payload = Record<string, unknown>;

// A counter of attempts per key (see Store.limiter). Seconds throughout.
export interface LimiterOptions {
  // Names the counter family ("card", "address", "device"); letters, digits
  // and underscores only. Two limiters with one prefix share their counters.
  keyPrefix: string;
  // Attempts allowed per window; the one after is refused.
  points: number;
  // The window: counting starts at the first attempt and ends this long after.
  duration: number;
  // When `points` is exceeded the key stays refused this long (0: until the
  // window ends).
  blockDuration: number;
}

// One record's address: its model and id.
export interface RecordKey {
  model: string;
  id: string;
}

export interface StoredRecord {
  model: string;
  id: string;
  payload: Payload;
}

// A record as `patronym store copy` moves it between stores.
export interface DumpedRecord extends StoredRecord {
  expiresAt?: number; // epoch ms; absent: lives until destroyed
}

export interface Store {
  readonly kind: string;
  // `expiresIn` in seconds; absent means the record lives until destroyed.
  upsert(model: string, id: string, payload: Payload, expiresIn?: number): Promise<void>;
  find(model: string, id: string): Promise<Payload | undefined>;
  // Several records by key, in the order asked (each undefined when missing
  // or expired), in one round trip where the store is a server away (an
  // account and its pseudonym generations, read together at the token and
  // userinfo endpoints).
  findMany(keys: readonly RecordKey[]): Promise<(Payload | undefined)[]>;
  // Atomically replaces one record with what `change` makes of it (`undefined`
  // when it is missing or expired): a transaction on every store, so no
  // caller reads, changes and writes back on its own and concurrent updates
  // lose nothing. `change` must be synchronous and free of side effects (a
  // store may run it again on conflict); if it throws, nothing is written
  // and update rejects with its error (a caller's way to abort and retry).
  // Resolves with the payload written.
  // `expiresIn` as for upsert; absent means the record lives until destroyed.
  update(
    model: string,
    id: string,
    change: (current: Payload | undefined) => Payload,
    expiresIn?: number,
  ): Promise<Payload>;
  findByUid(model: string, uid: string): Promise<Payload | undefined>;
  findByUserCode(model: string, userCode: string): Promise<Payload | undefined>;
  // Marks a one-time record (authorization code, …) as used, keeping it so
  // a replay can be detected. Atomic: resolves true for the one call that
  // marked it, false when it was already used, is missing or has expired,
  // so of two redemptions at once (on two instances) only one goes on.
  consume(model: string, id: string): Promise<boolean>;
  destroy(model: string, id: string): Promise<void>;
  // Every record of any model issued under this grant.
  revokeByGrantId(grantId: string): Promise<void>;
  // Every live record whose payload's `accountId` is this one (sessions,
  // grants, tokens, Patronym's own per-patron records): for the patron's
  // privacy page and for "forget me".
  findByAccount(accountId: string): Promise<StoredRecord[]>;
  // Every live record of one model (e.g. the registered vendors).
  list(model: string): Promise<StoredRecord[]>;
  // Every live record of every model, with its expiry, in batches: what
  // `patronym store copy` moves from one store to another. Not the limiter's
  // counters (minutes long; a move starts them afresh).
  dump(): AsyncIterable<DumpedRecord>;
  // Atomically adds one to a counter, creating it (with this lifetime) if it
  // is missing or expired; resolves with the new count. The lifetime of an
  // existing counter is not extended: a window starts at the first event.
  increment(model: string, id: string, expiresIn: number): Promise<number>;
  // A rate-limiter-flexible limiter whose counters live in this store (the
  // same memory, SQLite file or PostgreSQL database), so an attempt counted
  // by one broker process is seen by all of them. consume() is atomic: an
  // attempt is counted before it is checked, whatever the concurrency
  // (used by security/throttle.ts). Resolves once the limiter's table
  // exists. Keys passed to it are keyed hashes, never a card number.
  limiter(options: LimiterOptions): Promise<RateLimiterAbstract>;
  // Deletes expired records; resolves with how many, by model.
  sweep(): Promise<Record<string, number>>;
  // Makes records already deleted unrecoverable from the store's files
  // (SQLite keeps old page images in its write-ahead log until a
  // checkpoint). Called after "forget me" and after each sweep.
  scrub(): Promise<void>;
  close(): Promise<void>;
}

// The other processes holding records of their own for the same SQLite
// file (workers, cluster.ts; sqlite.ts says what for).
export interface StorePeers {
  // Resolves once every other worker has written what it held (before a
  // revocation, a query by account, a list).
  flush(): Promise<void>;
  // Resolves once any other worker holding this one record (by id, or by
  // uid) has written it: a miss's question, which leaves the rest of what
  // the others hold held (a sign-in half-done at one worker is not written
  // because another looked for a code).
  fetch(model: string, wanted: HeldWanted): Promise<void>;
  // Whoever asks this process to write what it holds gets `flushHeld` run;
  // to write one record, `writeHeld`.
  answer(flushHeld: () => Promise<void>, writeHeld: (model: string, wanted: HeldWanted) => Promise<void>): void;
}

// One record another worker may hold: by its id, or by its uid (sessions,
// interactions).
export type HeldWanted = { id: string } | { uid: string };

export interface StoreOptions {
  // Milliseconds since the epoch; tests pass a controllable clock.
  now?: () => number;
  // A write the store made in the background failed (SQLite's write-behind):
  // for the sysadmin's log. The store tries again.
  onError?: (error: unknown) => void;
  // Something the sysadmin should know that is no failure (yet): SQLite's
  // log growing because another connection keeps reading an old state.
  onWarning?: (message: string) => void;
}

export const epochSeconds = (now: () => number): number => Math.floor(now() / 1000);
