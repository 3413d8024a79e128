// The `sub` a vendor sees for an account: what oidc-provider's
// pairwiseIdentifier returns, and what back-channel logout tokens carry.
import type { Realm } from '../config/config.ts';
import { PatronymError } from '../errors.ts';
import type { Library } from '../libraries/library.ts';
import { walkInLibrary } from '../libraries/walk-in.ts';
import { derivePseudonym } from '../pseudonym/derive.ts';
import { sectorOf } from '../pseudonym/sector.ts';
import type { Accounts, KnownAccount } from './account.ts';

export interface ClientLike {
  sectorIdentifierUri?: string | undefined;
  redirectUris?: readonly string[] | undefined;
}

export interface Pseudonyms {
  // `record`, when the caller already holds it, saves the store reads.
  sub(accountId: string, client: ClientLike, record?: KnownAccount): Promise<string>;
}

export function createPseudonyms(deps: {
  pairwiseKey: Buffer;
  accounts: Accounts;
  realms: readonly Realm[];
  libraries: ReadonlyMap<string, Library>;
}): Pseudonyms {
  return {
    async sub(accountId, client, known) {
      const sector = sectorOf({
        sectorIdentifierUri: client.sectorIdentifierUri,
        redirectUris: [...(client.redirectUris ?? [])],
      });
      const walkIn = walkInLibrary(accountId);
      if (walkIn !== undefined) {
        // New for every walk-in session (the accountId is random), stored nowhere.
        const library = deps.libraries.get(walkIn);
        if (!library)
          throw new PatronymError('library_unknown', `oidc: walk-in library "${walkIn}" is no longer configured`);
        return derivePseudonym(deps.pairwiseKey, { sector, accountId, generation: 0, scope: library.realm.scope });
      }
      const record = known ?? (await deps.accounts.load(accountId));
      if (!record)
        throw new PatronymError('account_unknown', 'oidc: pseudonym asked for an account the store no longer holds');
      const realm = deps.realms.find((r) => r.id === record.realm);
      if (!realm) {
        throw new PatronymError(
          'realm_unknown',
          `oidc: account belongs to realm "${record.realm}", which is no longer configured`,
        );
      }
      return derivePseudonym(deps.pairwiseKey, {
        sector,
        accountId,
        // 0 until the patron resets this vendor or asks to be forgotten.
        generation: (await record.generations()).of(sector),
        scope: realm.scope,
      });
    },
  };
}
