// The records SQLite's write-behind holds (sqlite.ts): those not yet handed
// to a flush (`pending`), and those a flush has taken but not yet committed
// (`flushing`, oldest first: a flush waiting for the file's write lock, which
// a `patronym` command in another process may hold for a moment). A record
// stays readable here until its flush commits, and a flush writes a batch's
// records as they are when its transaction runs, so a record dropped or
// replaced meanwhile is not written in its old form.

// A record as the upsert statement writes it.
export interface HeldRow {
  model: string;
  id: string;
  payload: string;
  grantId: string | null;
  uid: string | null;
  userCode: string | null;
  accountId: string | null;
  expiresAt: number | null; // epoch ms
}

export const heldKey = (model: string, id: string): string => `${model}\u0000${id}`;

// Records handed to a write, readable until it settles.
export interface HeldBatch {
  batch: Map<string, HeldRow>;
  done(failed: boolean): void;
}

export const isLive = (row: HeldRow, now: number): boolean => row.expiresAt === null || row.expiresAt > now;

export class HeldRecords {
  #pending = new Map<string, HeldRow>();
  readonly #flushing: Map<string, HeldRow>[] = [];
  // model and uid → key, for oidc-provider's search of a session by uid at
  // every code redemption (a second's records, some 700 at full speed, were
  // searched one by one). An entry may outlive its record; `byUid` checks.
  readonly #uids = new Map<string, string>();

  get size(): number {
    return this.#pending.size;
  }

  // The newest held copy of a record.
  get(k: string): HeldRow | undefined {
    const row = this.#pending.get(k);
    if (row) return row;
    for (let i = this.#flushing.length - 1; i >= 0; i--) {
      const flushing = this.#flushing[i]?.get(k);
      if (flushing) return flushing;
    }
    return undefined;
  }

  // Held and not yet handed to a flush.
  isPending(k: string): boolean {
    return this.#pending.has(k);
  }

  // Holds a newer copy: an older one in a batch being flushed is not written.
  set(k: string, row: HeldRow): void {
    for (const batch of this.#flushing) batch.delete(k);
    this.#pending.set(k, row);
    if (row.uid !== null) this.#uids.set(heldKey(row.model, row.uid), k);
  }

  // Entries in the uid index (one per held record with a uid).
  get uids(): number {
    return this.#uids.size;
  }

  // The newest held copy of the record of this model with this uid.
  byUid(model: string, uid: string): HeldRow | undefined {
    const k = this.keyOfUid(model, uid);
    return k === undefined ? undefined : this.get(k);
  }

  // The key of the held record of this model with this uid.
  keyOfUid(model: string, uid: string): string | undefined {
    const k = this.#uids.get(heldKey(model, uid));
    const row = k === undefined ? undefined : this.get(k);
    return row?.model === model && row.uid === uid ? k : undefined;
  }

  #forgetUid(k: string, row: HeldRow): void {
    if (row.uid === null) return;
    const u = heldKey(row.model, row.uid);
    if (this.#uids.get(u) === k && !this.get(k)) this.#uids.delete(u);
  }

  // Drops every held copy; true if there was one.
  delete(k: string): boolean {
    const row = this.get(k);
    let dropped = this.#pending.delete(k);
    for (const batch of this.#flushing) dropped = batch.delete(k) || dropped;
    if (row) this.#forgetUid(k, row);
    return dropped;
  }

  // Every held record once, its newest copy (an older one in a batch being
  // flushed is passed over).
  *rows(): Iterable<[string, HeldRow]> {
    for (const map of [this.#pending, ...this.#flushing]) {
      for (const [k, row] of map) if (this.get(k) === row) yield [k, row];
    }
  }

  // Hands the pending records to a flush; `done` once it has settled.
  take(): HeldBatch {
    const batch = this.#pending;
    this.#pending = new Map();
    return this.#flush(batch);
  }

  // Hands a few pending records to a write of their own (another worker
  // asked for the first, the others go with it); undefined when the first
  // is not pending.
  takeSome(keys: readonly string[]): HeldBatch | undefined {
    if (!this.#pending.has(keys[0] as string)) return undefined;
    const batch = new Map<string, HeldRow>();
    for (const k of keys) {
      const row = this.#pending.get(k);
      if (!row) continue;
      this.#pending.delete(k);
      batch.set(k, row);
    }
    return this.#flush(batch);
  }

  #flush(batch: Map<string, HeldRow>): HeldBatch {
    this.#flushing.push(batch);
    return {
      batch,
      done: (failed) => {
        const at = this.#flushing.indexOf(batch);
        if (at >= 0) this.#flushing.splice(at, 1);
        // Not written: held again, unless a newer copy replaced it.
        if (failed) for (const [k, row] of batch) if (!this.get(k)) this.#pending.set(k, row);
        // Written: the file answers for these from now on.
        if (!failed) for (const [k, row] of batch) this.#forgetUid(k, row);
      },
    };
  }
}
