// What a patron allowed each vendor to learn, remembered for the consent
// period, keyed by accountId. One record per patron.
import type { Store } from '../store/store.ts';
import { RELEASABLE, type Releasable } from './release.ts';

const MODEL = 'Consent';

interface VendorConsent {
  releases: Releasable[];
  until: number; // epoch ms
}

interface ConsentRecord {
  accountId: string;
  vendors: Record<string, VendorConsent>;
}

export class Consents {
  readonly #store: Store;
  readonly #now: () => number;

  constructor(store: Store, now: () => number = Date.now) {
    this.#store = store;
    this.#now = now;
  }

  async #load(accountId: string): Promise<ConsentRecord> {
    const payload = (await this.#store.find(MODEL, accountId)) as ConsentRecord | undefined;
    const now = this.#now();
    const vendors: Record<string, VendorConsent> = {};
    for (const [clientId, c] of Object.entries(payload?.vendors ?? {})) {
      if (c.until > now)
        vendors[clientId] = { releases: c.releases.filter((r) => RELEASABLE.includes(r)), until: c.until };
    }
    return { accountId, vendors };
  }

  async #save(record: ConsentRecord): Promise<void> {
    const until = Math.max(0, ...Object.values(record.vendors).map((v) => v.until));
    if (until === 0) {
      await this.#store.destroy(MODEL, record.accountId);
      return;
    }
    await this.#store.upsert(MODEL, record.accountId, { ...record }, Math.ceil((until - this.#now()) / 1000));
  }

  // The releases this patron allowed this vendor, still in force.
  async allowed(accountId: string, clientId: string): Promise<Releasable[]> {
    return (await this.#load(accountId)).vendors[clientId]?.releases ?? [];
  }

  async allow(accountId: string, clientId: string, releases: readonly Releasable[], days: number): Promise<void> {
    const record = await this.#load(accountId);
    const previous = record.vendors[clientId]?.releases ?? [];
    record.vendors[clientId] = {
      releases: RELEASABLE.filter((r) => releases.includes(r) || previous.includes(r)),
      until: this.#now() + days * 86_400_000,
    };
    await this.#save(record);
  }

  async withdraw(accountId: string, clientId: string): Promise<void> {
    const record = await this.#load(accountId);
    delete record.vendors[clientId];
    await this.#save(record);
  }

  async list(accountId: string): Promise<Record<string, VendorConsent>> {
    return (await this.#load(accountId)).vendors;
  }
}
