// What oidc-provider calls the account: an accountId (a keyed hash, see
// pseudonym/derive.ts) and the little state kept for it: its realm and the
// library it last signed in with, for the retention period after its last
// sign-in. No patron data. Pseudonym generations are not here: they must
// outlive this record (see pseudonym/generations.ts).
import type { Account, FindAccount, KoaContextWithOIDC } from 'oidc-provider';
import type { Library } from '../libraries/library.ts';
import { walkInLibrary } from '../libraries/walk-in.ts';
import { claimValues } from '../policy/release.ts';
import type { VendorPolicies } from '../policy/vendors.ts';
import { type GenerationSnapshot, Generations } from '../pseudonym/generations.ts';
import type { Payload, Store } from '../store/store.ts';

export interface AccountRecord {
  realm: string;
  // The library the patron last signed in with (its claims describe it).
  library: string;
}

// An account with its pseudonym generations, read at most once for a
// request, and only if a pseudonym is asked for (not at the authorization
// endpoint, which only checks that the account is still there).
export interface KnownAccount extends AccountRecord {
  generations(): Promise<GenerationSnapshot>;
}

const MODEL = 'Account';

// The record as read, and whether that read took generations over from it.
interface ReadAccount {
  record: AccountRecord;
  payload: Payload;
  absorbed: boolean;
}

// Records written before generations became durable kept them here, by
// plain sector name.
function legacyGenerations(payload: Payload): Record<string, number> | undefined {
  const legacy = payload.generations;
  if (!legacy || typeof legacy !== 'object' || Object.keys(legacy).length === 0) return undefined;
  return legacy as Record<string, number>;
}

export class Accounts {
  readonly #store: Store;
  readonly #ttl: number;
  readonly generations: Generations;

  readonly #now: () => number;

  constructor(store: Store, ttlSeconds: number, pairwiseKey: Buffer, now: () => number = Date.now) {
    this.#store = store;
    this.#ttl = ttlSeconds;
    this.#now = now;
    this.generations = new Generations(store, pairwiseKey);
  }

  async get(accountId: string): Promise<AccountRecord | undefined> {
    return (await this.#read(accountId))?.record;
  }

  async #read(accountId: string): Promise<ReadAccount | undefined> {
    return this.#recordOf(accountId, await this.#store.find(MODEL, accountId));
  }

  async #recordOf(accountId: string, payload: Payload | undefined): Promise<ReadAccount | undefined> {
    if (!payload || typeof payload.realm !== 'string') return undefined;
    // Taken over on every read until the next sign-in rewrites the record
    // without them (absorbing is idempotent and never lowers anything).
    const legacy = legacyGenerations(payload);
    if (legacy) await this.generations.absorb(accountId, legacy);
    return {
      record: { realm: payload.realm, library: typeof payload.library === 'string' ? payload.library : '' },
      payload,
      absorbed: legacy !== undefined,
    };
  }

  // `withGenerations`: the pseudonym will be needed (token, userinfo), so
  // the generations are read with the account, in one round trip to a
  // database server; otherwise at most once, when first asked for.
  async load(accountId: string, options: { withGenerations?: boolean } = {}): Promise<KnownAccount | undefined> {
    let snapshot: Promise<GenerationSnapshot> | undefined;
    let found: ReadAccount | undefined;
    if (options.withGenerations) {
      const [account, generations] = await this.#store.findMany([
        { model: MODEL, id: accountId },
        this.generations.keyOf(accountId),
      ]);
      found = await this.#recordOf(accountId, account);
      // Generations just taken over from the account record are read again.
      if (found && !found.absorbed) snapshot = Promise.resolve(this.generations.snapshotOf(accountId, generations));
    } else {
      found = await this.#read(accountId);
    }
    if (!found) return undefined;
    return { ...found.record, generations: () => (snapshot ??= this.generations.snapshot(accountId)) };
  }

  // Called at every sign-in: keeps the record alive for the retention period
  // after the patron's last use. Rewritten at most once a (UTC) day when
  // nothing else changed: a write transaction less for most sign-ins (the
  // profile of issue 18), at the price of the record going up to a day
  // before the full period after the last sign-in, never after it.
  async touch(accountId: string, realm: string, library: string): Promise<AccountRecord> {
    // Reading first takes over generations an older version kept here.
    const found = await this.#read(accountId);
    const day = Math.floor(this.#now() / 86_400_000);
    const p = found?.payload;
    const unchanged = p?.realm === realm && p.library === library && p.day === day && !legacyGenerations(p);
    if (unchanged) return { realm, library };
    // accountId in the payload puts the record in the store's account index.
    await this.#store.update(MODEL, accountId, () => ({ accountId, realm, library, day }), this.#ttl);
    return { realm, library };
  }

  // The patron's "reset this vendor's pseudonym": the vendor sees a new,
  // unrelated `sub` from now on, for good.
  async resetPseudonym(accountId: string, sector: string): Promise<void> {
    await this.generations.reset(accountId, sector);
  }

  // "Forget me": the record goes, and every vendor sees a new pseudonym
  // should the patron come back (never the one from before).
  async forget(accountId: string): Promise<void> {
    await this.generations.forget(accountId);
    await this.#store.destroy(MODEL, accountId);
  }
}

export interface LoadedAccount extends Account {
  record: KnownAccount;
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
    // The endpoints that put the pseudonym in what they answer.
    const route = ctx.oidc?.route;
    const record = await accounts.load(accountId, { withGenerations: route === 'token' || route === 'userinfo' });
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
