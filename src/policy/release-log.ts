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
  async record(
    accountId: string,
    clientId: string,
    received: readonly Releasable[],
    retentionDays: number,
  ): Promise<void> {
    const today = day(this.#now());
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
