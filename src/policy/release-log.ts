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
    const payload = (await this.#store.find(MODEL, accountId)) as LogRecord | undefined;
    const oldest = Number.isFinite(retentionDays) ? day(this.#now() - retentionDays * 86_400_000) : '';
    return Object.fromEntries(Object.entries(payload?.vendors ?? {}).filter(([, use]) => use.last >= oldest));
  }

  async record(
    accountId: string,
    clientId: string,
    received: readonly Releasable[],
    retentionDays: number,
  ): Promise<void> {
    const vendors = await this.list(accountId, retentionDays);
    const today = day(this.#now());
    const previous = vendors[clientId];
    vendors[clientId] = {
      first: previous?.first ?? today,
      last: today,
      received: [...new Set([...(previous?.received ?? []), ...received])],
    };
    await this.#store.upsert(MODEL, accountId, { accountId, vendors }, retentionDays * 86_400);
  }

  async forgetVendor(accountId: string, clientId: string, retentionDays: number): Promise<void> {
    const vendors = await this.list(accountId);
    if (!(clientId in vendors)) return;
    delete vendors[clientId];
    await this.#store.upsert(MODEL, accountId, { accountId, vendors }, retentionDays * 86_400);
  }
}
