// Every client sharing one client's sector shares the patron's pseudonym
// with it (OIDC Core 8.1): what a pseudonym reset must reach, configured in
// the file or registered in the store alike.
import type Provider from 'oidc-provider';
import type { Config } from '../config/config.ts';
import { sectorOf } from '../pseudonym/sector.ts';
import type { Store } from '../store/store.ts';

export async function sectorClients(
  deps: { config: Config; provider: Provider; store: Store },
  clientId: string,
  // Never part of a vendor (the privacy page's own client).
  except: readonly string[],
): Promise<{ sector: string; clientIds: string[] } | undefined> {
  const of = async (id: string) => {
    const client = await deps.provider.Client.find(id);
    if (!client) return undefined;
    try {
      return sectorOf({ sectorIdentifierUri: client.sectorIdentifierUri, redirectUris: client.redirectUris ?? [] });
    } catch {
      return undefined; // redirect URIs on several hosts and no sector_identifier_uri: no pairwise sub at all
    }
  };
  const sector = await of(clientId);
  if (sector === undefined) return undefined;
  const candidates = new Set([
    clientId,
    ...deps.config.clients.map((c) => c.client_id),
    ...(await deps.store.list('Client')).map((r) => r.id),
  ]);
  for (const id of except) candidates.delete(id);
  const clientIds: string[] = [];
  for (const id of candidates) if ((await of(id)) === sector) clientIds.push(id);
  return { sector, clientIds };
}
