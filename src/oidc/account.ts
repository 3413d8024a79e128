// What oidc-provider calls the account: an accountId (a keyed hash, see
// pseudonym/derive.ts) and the little state kept for it — its realm, and the
// pseudonym generation per vendor sector (raised when the patron resets that
// vendor's pseudonym). No patron data.
import type { Account, FindAccount, KoaContextWithOIDC } from 'oidc-provider';
import type { Library } from '../libraries/library.ts';
import { claimValues } from '../policy/release.ts';
import type { VendorPolicies } from '../policy/vendors.ts';
import type { Store } from '../store/store.ts';
import { walkInLibrary } from './walk-in.ts';

export interface AccountRecord {
  realm: string;
  // The library the patron last signed in with (its claims describe it).
  library: string;
  generations: Record<string, number>;
}

const MODEL = 'Account';

export class Accounts {
  readonly #store: Store;
  readonly #ttl: number;

  constructor(store: Store, ttlSeconds: number) {
    this.#store = store;
    this.#ttl = ttlSeconds;
  }

  async get(accountId: string): Promise<AccountRecord | undefined> {
    const payload = await this.#store.find(MODEL, accountId);
    if (!payload || typeof payload.realm !== 'string') return undefined;
    return {
      realm: payload.realm,
      library: typeof payload.library === 'string' ? payload.library : '',
      generations: (payload.generations as Record<string, number>) ?? {},
    };
  }

  // Called at every sign-in: keeps the record alive for the retention period
  // after the patron's last use.
  async touch(accountId: string, realm: string, library: string): Promise<AccountRecord> {
    const existing = await this.get(accountId);
    const record: AccountRecord = { realm, library, generations: existing?.generations ?? {} };
    await this.#save(accountId, record);
    return record;
  }

  // The patron's "reset this vendor's pseudonym": the vendor sees a new,
  // unrelated `sub` from now on.
  async resetPseudonym(accountId: string, sector: string): Promise<void> {
    const record = await this.get(accountId);
    if (!record) return;
    record.generations[sector] = (record.generations[sector] ?? 0) + 1;
    await this.#save(accountId, record);
  }

  async forget(accountId: string): Promise<void> {
    await this.#store.destroy(MODEL, accountId);
  }

  async #save(accountId: string, record: AccountRecord): Promise<void> {
    // accountId in the payload puts the record in the store's account index.
    await this.#store.upsert(MODEL, accountId, { accountId, ...record }, this.#ttl);
  }
}

export interface LoadedAccount extends Account {
  record: AccountRecord;
}

// oidc-provider's findAccount: an accountId the store no longer knows (purged,
// forgotten) is no account, so its tokens stop working. Claims are computed
// here from the vendor's release policy; oidc-provider then releases only
// those the grant (the patron's consent) covers.
export function findAccount(
  accounts: Accounts,
  libraries: ReadonlyMap<string, Library>,
  policies: VendorPolicies,
): FindAccount {
  return async (ctx: KoaContextWithOIDC, accountId: string) => {
    const policy = (await policies.get(ctx.oidc.client?.clientId)).release;
    const walkIn = walkInLibrary(accountId);
    if (walkIn !== undefined) {
      const library = libraries.get(walkIn);
      if (!library) return undefined;
      return { accountId, claims: async () => ({ sub: accountId, ...claimValues(policy, library, 'walk-in') }) };
    }
    const record = await accounts.get(accountId);
    if (!record) return undefined;
    const library = libraries.get(record.library);
    const account: LoadedAccount = {
      accountId,
      record,
      // `sub` is replaced by the pairwise pseudonym.
      claims: async () => ({ sub: accountId, ...(library ? claimValues(policy, library) : {}) }),
    };
    return account;
  };
}
