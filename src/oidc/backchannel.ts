// OIDC Back-Channel Logout 1.0 for the patron's own actions: when a patron
// withdraws consent, resets a vendor's pseudonym or asks to be forgotten,
// every vendor session involved is told, with the `sub` that vendor knows.
// (RP-initiated logout at /session/end is oidc-provider's own and does the
// same.)
import type Provider from 'oidc-provider';
import type { Logger } from '../log.ts';
import type { Store } from '../store/store.ts';

export async function notifyLogout(
  deps: { provider: Provider; store: Store; log: Logger },
  accountId: string,
  onlyClients?: readonly string[],
): Promise<number> {
  let sent = 0;
  const sessions = (await deps.store.findByAccount(accountId)).filter((r) => r.model === 'Session');
  for (const session of sessions) {
    const authorizations = (session.payload.authorizations ?? {}) as Record<string, { sid?: string }>;
    for (const [clientId, { sid }] of Object.entries(authorizations)) {
      if (onlyClients && !onlyClients.includes(clientId)) continue;
      const client = await deps.provider.Client.find(clientId);
      if (!client?.backchannelLogoutUri || !sid) continue;
      try {
        // Not in @types/oidc-provider: Client#backchannelLogout(accountId, sid),
        // the method oidc-provider's own end_session uses; the logout token it
        // signs carries the pairwise sub (pairwiseIdentifier runs on the way).
        const logout = (client as unknown as { backchannelLogout(accountId: string, sid: string): Promise<void> })
          .backchannelLogout;
        await logout.call(client, accountId, sid);
        sent++;
      } catch (error) {
        deps.log.warn(
          { event: 'backchannel_logout', vendor: clientId, error: (error as Error).message },
          'oidc: back-channel logout not delivered',
        );
      }
    }
  }
  return sent;
}
