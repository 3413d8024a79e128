// One sign-in attempt: run the library's authenticator chain, turn the
// backend's patron key into an accountId, and leave a log line a sysadmin
// can follow (library, authenticator, outcome, keyed handles) that names no
// patron.
import type { Credentials, DenyReason } from '../auth/authenticator.ts';
import { runChain } from '../auth/chain.ts';
import type { Library } from '../libraries/library.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { deriveAccountId } from '../pseudonym/derive.ts';
import type { Handles } from '../pseudonym/handle.ts';
import type { Accounts } from './account.ts';

export type SignInResult =
  | { kind: 'ok'; accountId: string }
  | { kind: 'denied'; reason: DenyReason }
  | { kind: 'unavailable' };

export interface SignInDeps {
  accountKey: Buffer;
  accounts: Accounts;
  handles: Handles;
  log: Logger;
  metrics: Metrics;
}

export async function signIn(
  deps: SignInDeps,
  library: Library,
  credentials: Credentials,
  vendor: string | undefined,
  // handles.card(realm, canonical card): the one the throttle counted the
  // attempt under, so every line about one card carries one handle.
  cardHash: string,
): Promise<SignInResult> {
  const started = performance.now();
  const outcome = await runChain(library.chain, credentials);
  const base = {
    event: 'login',
    library: library.id,
    authenticator: outcome.authenticator,
    vendor,
    cardHash,
    ms: Math.round(performance.now() - started),
  };
  const { result } = outcome;
  for (const step of outcome.steps) {
    deps.metrics.backendSeconds.observe(
      { authenticator: step.authenticator, outcome: step.result.kind },
      step.ms / 1000,
    );
  }
  deps.metrics.logins.inc({
    library: library.id,
    authenticator: outcome.authenticator,
    outcome: result.kind,
    reason: result.kind === 'denied' ? result.reason : '',
  });
  if (result.kind === 'ok') {
    const accountId = deriveAccountId(deps.accountKey, library.realm.id, result.patron.stableId);
    await deps.accounts.touch(accountId, library.realm.id, library.id);
    deps.log.info({ ...base, outcome: 'ok', accountHash: deps.handles.account(accountId) }, 'login: ok');
    return { kind: 'ok', accountId };
  }
  if (result.kind === 'denied') {
    deps.log.info(
      { ...base, outcome: 'denied', reason: result.reason, detail: result.detail },
      `login: denied (${result.reason})`,
    );
    return { kind: 'denied', reason: result.reason };
  }
  // Every outage on the way, so the sysadmin sees which backend and why.
  for (const step of outcome.steps) {
    if (step.result.kind === 'unavailable') {
      deps.log.warn(
        { ...base, authenticator: step.authenticator, outcome: 'unavailable', cause: step.result.cause, ms: step.ms },
        `login: backend unavailable: ${step.authenticator}`,
      );
    }
  }
  return { kind: 'unavailable' };
}
