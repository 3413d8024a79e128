// What a patron allowed each vendor to learn, remembered for the consent
// period, keyed by accountId. One record per patron.
import type { Payload, Store } from '../store/store.ts';
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

// How long a record may outlive its last consent: concurrent allows seconds
// apart then never conflict, and no consent is kept a minute past its end.
const SLACK_MS = 60_000;
const MAX_ATTEMPTS = 10;

class PlanChanged extends Error {}

const lastUntil = (vendors: Record<string, VendorConsent>): number =>
  Math.max(0, ...Object.values(vendors).map((v) => v.until));

export class Consents {
  readonly #store: Store;
  readonly #now: () => number;

  constructor(store: Store, now: () => number = Date.now) {
    this.#store = store;
    this.#now = now;
  }

  // The vendor entries still in force, with `edit` applied.
  #edited(payload: Payload | undefined, now: number, edit?: (vendors: Record<string, VendorConsent>) => void) {
    const vendors: Record<string, VendorConsent> = {};
    for (const [clientId, c] of Object.entries((payload as ConsentRecord | undefined)?.vendors ?? {})) {
      if (c.until > now)
        vendors[clientId] = { releases: c.releases.filter((r) => RELEASABLE.includes(r)), until: c.until };
    }
    edit?.(vendors);
    return vendors;
  }

  async #load(accountId: string): Promise<ConsentRecord> {
    return { accountId, vendors: this.#edited(await this.#store.find(MODEL, accountId), this.#now()) };
  }

  // One atomic Store.update per change, so concurrent sign-ins (on one
  // broker or several) lose no consent and a withdrawal is never undone.
  // The record lives until its last vendor entry ends (plus SLACK_MS), so
  // nothing of it outlasts the patron's consent. update() needs that
  // lifetime before it runs `change`: it is planned from a read, and
  // `change` aborts (PlanChanged, rolling the transaction back) when the
  // record it is given would outlive the plan, because another instance
  // wrote a longer consent in between; then it is planned again.
  async #change(accountId: string, edit: (vendors: Record<string, VendorConsent>) => void): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const now = this.#now();
      const seen = await this.#store.find(MODEL, accountId);
      const plan = lastUntil(this.#edited(seen, now, edit));
      if (plan === 0 && seen === undefined) return; // nothing held, nothing to hold
      try {
        await this.#store.update(
          MODEL,
          accountId,
          (current) => {
            const vendors = this.#edited(current, now, edit);
            if (lastUntil(vendors) > plan + SLACK_MS) throw new PlanChanged();
            return { accountId, vendors };
          },
          // An empty record expires at once: as good as deleted, swept later.
          plan === 0 ? 0 : Math.ceil((plan + SLACK_MS - now) / 1000),
        );
        return;
      } catch (error) {
        if (!(error instanceof PlanChanged) || attempt >= MAX_ATTEMPTS) throw error;
      }
    }
  }

  // The releases this patron allowed this vendor, still in force.
  async allowed(accountId: string, clientId: string): Promise<Releasable[]> {
    return (await this.#load(accountId)).vendors[clientId]?.releases ?? [];
  }

  async allow(accountId: string, clientId: string, releases: readonly Releasable[], days: number): Promise<void> {
    const until = this.#now() + days * 86_400_000;
    await this.#change(accountId, (vendors) => {
      const previous = vendors[clientId]?.releases ?? [];
      vendors[clientId] = { releases: RELEASABLE.filter((r) => releases.includes(r) || previous.includes(r)), until };
    });
  }

  async withdraw(accountId: string, clientId: string): Promise<void> {
    await this.#change(accountId, (vendors) => {
      delete vendors[clientId];
    });
  }

  async list(accountId: string): Promise<Record<string, VendorConsent>> {
    return (await this.#load(accountId)).vendors;
  }
}
