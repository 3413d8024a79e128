// What oidc-provider calls the account: an accountId (a keyed hash, see
// pseudonym/derive.ts) and the little state kept for it — its realm, and the
// pseudonym generation per vendor sector (raised when the patron resets that
// vendor's pseudonym). No patron data.
import type { Account, FindAccount, KoaContextWithOIDC } from 'oidc-provider';
import type { Store } from '../store/store.ts';

export interface AccountRecord {
  realm: string;
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
    return { realm: payload.realm, generations: (payload.generations as Record<string, number>) ?? {} };
  }

  // Called at every sign-in: keeps the record alive for the retention period
  // after the patron's last use.
  async touch(accountId: string, realm: string): Promise<AccountRecord> {
    const existing = await this.get(accountId);
    const record: AccountRecord = { realm, generations: existing?.generations ?? {} };
    await this.#store.upsert(MODEL, accountId, { ...record }, this.#ttl);
    return record;
  }
}

export interface LoadedAccount extends Account {
  record: AccountRecord;
}

// oidc-provider's findAccount: an accountId the store no longer knows (purged,
// forgotten) is no account, so its tokens stop working.
export function findAccount(accounts: Accounts): FindAccount {
  return async (_ctx: KoaContextWithOIDC, accountId: string) => {
    const record = await accounts.get(accountId);
    if (!record) return undefined;
    const account: LoadedAccount = {
      accountId,
      record,
      // Only `sub`: oidc-provider replaces it with the pairwise pseudonym.
      claims: async () => ({ sub: accountId }),
    };
    return account;
  };
}
