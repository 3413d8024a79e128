// The patron's own record of what each vendor received, written when the
// vendor redeems the code (that is when it receives the claims), before
// the token response leaves: a "forget me" right after cannot race it.
// Beside it, the library's usage statistics: a sign-in counts when it
// reaches the vendor.
import type { Middleware } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Library } from '../libraries/library.ts';
import { walkInLibrary } from '../libraries/walk-in.ts';
import type { Logger } from '../log.ts';
import type { StatsRecorder } from '../stats/recorder.ts';
import type { Consents } from './consent.ts';
import { requestedReleases } from './release.ts';
import type { ReleaseLog } from './release-log.ts';
import { requestOf } from './requested.ts';
import type { VendorPolicies } from './vendors.ts';

export interface ReleaseRecordingDeps {
  // Which library a patron's accountId last signed in at (the accounts
  // record of oidc/account.ts; only its library is read here).
  accounts: { get(accountId: string): Promise<{ library: string } | undefined> };
  libraries: ReadonlyMap<string, Library>;
  consents: Consents;
  policies: VendorPolicies;
  releaseLog: ReleaseLog;
  // The broker's release-log retention, for a library without its own.
  retentionDays: number;
  stats?: StatsRecorder | undefined;
  log: Logger;
}

// oidc-provider found the account (our findAccount, oidc/account.ts) to
// answer this very token request: its record says the library, so the
// store is not asked a second time. Read by shape, as policy/ imports
// nothing from oidc/.
function loadedRecord(account: unknown, accountId: string): { library: string } | undefined {
  const loaded = account as { accountId?: unknown; record?: { library?: unknown } } | undefined;
  const library = loaded?.record?.library;
  return loaded?.accountId === accountId && typeof library === 'string' ? { library } : undefined;
}

// Mounted with provider.use(): it sees oidc-provider's context after the
// token endpoint has answered.
export function recordReleases(deps: ReleaseRecordingDeps): Middleware {
  const { accounts, libraries, consents, policies, releaseLog, stats, log } = deps;
  return async (ctx, next) => {
    await next();
    const { oidc } = ctx as unknown as KoaContextWithOIDC;
    if (oidc?.route !== 'token' || ctx.status !== 200) return;
    const code = oidc.entities.AuthorizationCode;
    const clientId = oidc.client?.clientId;
    if (!code?.accountId || !clientId || walkInLibrary(code.accountId)) return;
    const accountId = code.accountId;
    const request = requestOf({ scope: code.scope, claims: code.claims ? JSON.stringify(code.claims) : undefined });
    try {
      const record = loadedRecord(oidc.entities.Account, accountId) ?? (await accounts.get(accountId));
      const counted =
        record &&
        stats
          ?.record(record.library, clientId, accountId)
          .catch((error: unknown) => log.error({ event: 'stats', err: error }, 'stats: sign-in not counted'));
      const retention = libraries.get(record?.library ?? '')?.retention.releaseLog ?? deps.retentionDays;
      const policy = (await policies.get(clientId)).release;
      const asked = requestedReleases(policy, request.scopes, request.claims);
      // Nothing asked that the policy releases: no consent to look up.
      const allowed = asked.length === 0 ? [] : await consents.allowed(accountId, clientId);
      const received = asked.filter((r) => allowed.includes(r));
      await releaseLog.record(accountId, clientId, received, retention);
      await counted;
    } catch (error) {
      log.error({ event: 'release_log', err: error }, 'privacy: release log not written');
    }
  };
}
