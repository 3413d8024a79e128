// In-process store for tests and single-process experiments. Same semantics
// as the persistent stores (checked by the store conformance suite).
import { type RateLimiterAbstract, RateLimiterMemory } from 'rate-limiter-flexible';
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

interface Entry {
  payload: Payload;
  expiresAt?: number; // epoch ms
}

export class MemoryStore implements Store {
  readonly kind = 'memory';
  readonly #records = new Map<string, Entry>();
  // model + uid (or user code) → keys of the records written with it:
  // findByUid runs at every code redemption, and a scan of every record
  // there made each sign-in cost more than the one before.
  readonly #byField = { uid: new Map<string, Set<string>>(), userCode: new Map<string, Set<string>>() };
  // RateLimiterMemory keeps its counters in the instance, so one instance per
  // set of options: every caller asking for the same limiter shares counts.
  readonly #limiters = new Map<string, RateLimiterMemory>();
  readonly #now: () => number;

  constructor(options: StoreOptions = {}) {
    this.#now = options.now ?? Date.now;
  }

  #key(model: string, id: string): string {
    return `${model}\u0000${id}`;
  }

  // Every write and removal of a record goes through these two, which keep
  // #byField in step with #records.
  #put(key: string, entry: Entry): void {
    this.#unindex(key);
    this.#records.set(key, entry);
    for (const [at, index] of this.#indexed(key, entry)) {
      const keys = index.get(at);
      if (keys) keys.add(key);
      else index.set(at, new Set([key]));
    }
  }

  #drop(key: string): void {
    this.#unindex(key);
    this.#records.delete(key);
  }

  #unindex(key: string): void {
    const entry = this.#records.get(key);
    if (!entry) return;
    for (const [at, index] of this.#indexed(key, entry)) {
      const keys = index.get(at);
      keys?.delete(key);
      if (keys?.size === 0) index.delete(at);
    }
  }

  // Where a record is found in #byField: model + value, per indexed field.
  #indexed(key: string, entry: Entry): [string, Map<string, Set<string>>][] {
    const model = key.slice(0, key.indexOf('\u0000'));
    const found: [string, Map<string, Set<string>>][] = [];
    for (const [field, index] of Object.entries(this.#byField)) {
      const value = entry.payload[field];
      if (typeof value === 'string') found.push([this.#key(model, value), index]);
    }
    return found;
  }

  #live(entry: Entry | undefined): Payload | undefined {
    if (!entry || (entry.expiresAt !== undefined && entry.expiresAt <= this.#now())) return undefined;
    return structuredClone(entry.payload);
  }

  async upsert(model: string, id: string, payload: Payload, expiresIn?: number): Promise<void> {
    const entry: Entry = { payload: structuredClone(payload) };
    if (expiresIn !== undefined) entry.expiresAt = this.#now() + expiresIn * 1000;
    this.#put(this.#key(model, id), entry);
  }

  async find(model: string, id: string): Promise<Payload | undefined> {
    return this.#live(this.#records.get(this.#key(model, id)));
  }

  async findMany(keys: readonly RecordKey[]): Promise<(Payload | undefined)[]> {
    return keys.map((k) => this.#live(this.#records.get(this.#key(k.model, k.id))));
  }

  async update(
    model: string,
    id: string,
    change: (current: Payload | undefined) => Payload,
    expiresIn?: number,
  ): Promise<Payload> {
    // Synchronous from read to write: nothing can interleave in one process.
    const payload = change(this.#live(this.#records.get(this.#key(model, id))));
    const entry: Entry = { payload: structuredClone(payload) };
    if (expiresIn !== undefined) entry.expiresAt = this.#now() + expiresIn * 1000;
    this.#put(this.#key(model, id), entry);
    return structuredClone(payload);
  }

  #findBy(model: string, field: 'uid' | 'userCode', value: string): Payload | undefined {
    for (const key of this.#byField[field].get(this.#key(model, value)) ?? []) {
      const payload = this.#live(this.#records.get(key));
      if (payload) return payload;
    }
    return undefined;
  }

  async findByUid(model: string, uid: string): Promise<Payload | undefined> {
    return this.#findBy(model, 'uid', uid);
  }

  async findByUserCode(model: string, userCode: string): Promise<Payload | undefined> {
    return this.#findBy(model, 'userCode', userCode);
  }

  async consume(model: string, id: string): Promise<boolean> {
    const entry = this.#records.get(this.#key(model, id));
    if (!entry || !this.#live(entry) || entry.payload.consumed !== undefined) return false;
    entry.payload.consumed = epochSeconds(this.#now);
    return true;
  }

  async destroy(model: string, id: string): Promise<void> {
    this.#drop(this.#key(model, id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    for (const [key, entry] of this.#records) {
      if (entry.payload.grantId === grantId) this.#drop(key);
    }
  }

  async increment(model: string, id: string, expiresIn: number): Promise<number> {
    const key = this.#key(model, id);
    const entry = this.#records.get(key);
    if (!this.#live(entry) || !entry) {
      this.#put(key, { payload: { n: 1 }, expiresAt: this.#now() + expiresIn * 1000 });
      return 1;
    }
    const n = Number(entry.payload.n ?? 0) + 1;
    entry.payload.n = n;
    return n;
  }

  async list(model: string): Promise<StoredRecord[]> {
    const prefix = `${model}\u0000`;
    const found: StoredRecord[] = [];
    for (const [key, entry] of this.#records) {
      const payload = key.startsWith(prefix) ? this.#live(entry) : undefined;
      if (payload) found.push({ model, id: key.slice(prefix.length), payload });
    }
    return found;
  }

  async *dump(): AsyncIterable<DumpedRecord> {
    for (const [key, entry] of [...this.#records]) {
      const payload = this.#live(entry);
      if (!payload) continue;
      // Model names hold no NUL; ids may.
      const cut = key.indexOf('\u0000');
      const [model, id] = [key.slice(0, cut), key.slice(cut + 1)];
      yield { model, id, payload, ...(entry.expiresAt !== undefined ? { expiresAt: entry.expiresAt } : {}) };
    }
  }

  async findByAccount(accountId: string): Promise<StoredRecord[]> {
    const found: StoredRecord[] = [];
    for (const [key, entry] of this.#records) {
      const payload = entry.payload.accountId === accountId ? this.#live(entry) : undefined;
      if (!payload) continue;
      const [model, id] = key.split('\u0000') as [string, string];
      found.push({ model, id, payload });
    }
    return found;
  }

  async limiter(options: LimiterOptions): Promise<RateLimiterAbstract> {
    const key = JSON.stringify(options);
    let limiter = this.#limiters.get(key);
    if (!limiter) {
      limiter = new RateLimiterMemory({ ...options });
      this.#limiters.set(key, limiter);
    }
    return limiter;
  }

  async sweep(): Promise<Record<string, number>> {
    const now = this.#now();
    const removed: Record<string, number> = {};
    for (const [key, entry] of this.#records) {
      if (entry.expiresAt !== undefined && entry.expiresAt <= now) {
        this.#drop(key);
        const model = key.split('\u0000')[0] as string;
        removed[model] = (removed[model] ?? 0) + 1;
      }
    }
    return removed;
  }

  async scrub(): Promise<void> {}

  async close(): Promise<void> {
    this.#records.clear();
    for (const index of Object.values(this.#byField)) index.clear();
    this.#limiters.clear();
  }
}
