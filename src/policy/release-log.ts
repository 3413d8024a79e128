// The patron's own record of which vendors they signed in to and what each
// received, so they can see it on their privacy page. Day precision only;
// entries older than the retention period are dropped. Keyed by accountId.
import type { Store } from '../store/store.ts';
import type { Releasable } from './release.ts';

const MODEL = 'ReleaseLog';

export interface VendorUse {
  first: string; // YYYY-MM-DD
  last: string;
  received: Releasable[];
}

interface LogRecord {
  accountId: string;
  vendors: Record<string, VendorUse>;
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export class ReleaseLog {
  readonly #store: Store;
  readonly #now: () => number;

  constructor(store: Store, now: () => number = Date.now) {
    this.#store = store;
    this.#now = now;
  }

  async list(accountId: string, retentionDays = Number.POSITIVE_INFINITY): Promise<Record<string, VendorUse>> {
    return this.#within((await this.#store.find(MODEL, accountId)) as LogRecord | undefined, retentionDays);
  }

  #within(record: LogRecord | undefined, retentionDays: number): Record<string, VendorUse> {
    const oldest = Number.isFinite(retentionDays) ? day(this.#now() - retentionDays * 86_400_000) : '';
    return Object.fromEntries(Object.entries(record?.vendors ?? {}).filter(([, use]) => use.last >= oldest));
  }

  // One atomic update (Store.update): two sign-ins of one patron at once,
  // on one broker or two, both land in the record.
  //
  // Written at most once a day per vendor while what it received stays the
  // same: with day precision a second sign-in that day changes nothing in
  // the entry, only the record's expiry, which then ends up to a day before
  // the full retention period after the last use, never after it (as
  // Accounts.touch). A write transaction less for most sign-ins (issue 18).
  async record(
    accountId: string,
    clientId: string,
    received: readonly Releasable[],
    retentionDays: number,
  ): Promise<void> {
    const today = day(this.#now());
    const seen = ((await this.#store.find(MODEL, accountId)) as LogRecord | undefined)?.vendors?.[clientId];
    if (seen?.last === today && Array.isArray(seen.received) && received.every((r) => seen.received.includes(r)))
      return;
    await this.#store.update(
      MODEL,
      accountId,
      (current) => {
        const vendors = this.#within(current as LogRecord | undefined, retentionDays);
        const previous = vendors[clientId];
        vendors[clientId] = {
          first: previous?.first ?? today,
          last: today,
          received: [...new Set([...(previous?.received ?? []), ...received])],
        };
        return { accountId, vendors };
      },
      retentionDays * 86_400,
    );
  }

  async forgetVendor(accountId: string, clientId: string, retentionDays: number): Promise<void> {
    // Nothing to forget writes nothing (no record is created for it); a
    // use recorded after this check is a later use, rightly kept.
    if (!(clientId in (await this.list(accountId)))) return;
    await this.#store.update(
      MODEL,
      accountId,
      (current) => {
        const vendors = { ...((current as LogRecord | undefined)?.vendors ?? {}) };
        delete vendors[clientId];
        return { accountId, vendors };
      },
      retentionDays * 86_400,
    );
  }
}
