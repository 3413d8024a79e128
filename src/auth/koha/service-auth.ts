// How the broker proves itself to Koha: a fixed Basic header, or a bearer
// token from /api/v1/oauth/token cached until it expires.
import { type IlsClient, IlsUnavailable } from '../http/ils-client.ts';
import type { ServiceAuth } from '../http/service-auth.ts';
import { TokenCache } from '../http/token-cache.ts';

export function basicAuth(user: string, password: string): ServiceAuth {
  const header = `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
  return {
    header: async () => ({ authorization: header }),
    refused: () => false,
    describe: `basic auth as ${JSON.stringify(user)}`,
  };
}

const TOKEN = 'POST /api/v1/oauth/token';

export function oauthClientCredentials(
  client: IlsClient,
  clientId: string,
  clientSecret: string,
  now?: () => number,
): ServiceAuth & { cache: TokenCache } {
  const cache = new TokenCache(async () => {
    const response = await client.request({
      method: 'POST',
      path: '/api/v1/oauth/token',
      label: TOKEN,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: clientSecret,
      }).toString(),
    });
    if (response.status === 400 || response.status === 401 || response.status === 403)
      throw new IlsUnavailable(
        `${client.where(TOKEN)}: HTTP ${response.status}: client credentials of ${JSON.stringify(clientId)} refused (check auth.oauth and the system preference RESTOAuth2ClientCredentials)`,
      );
    const body = client.json(response, TOKEN) as { access_token?: unknown; expires_in?: unknown };
    if (response.status !== 200 || typeof body.access_token !== 'string' || body.access_token === '')
      throw new IlsUnavailable(`${client.where(TOKEN)}: HTTP ${response.status} without an access_token`);
    return {
      token: body.access_token,
      expiresIn: typeof body.expires_in === 'number' ? body.expires_in : undefined,
    };
  }, now);
  return {
    cache,
    header: async () => ({ authorization: `Bearer ${await cache.get()}` }),
    refused: (headers) => {
      cache.invalidate((headers.authorization ?? '').slice('Bearer '.length));
      return true;
    },
    describe: `OAuth2 client ${JSON.stringify(clientId)}`,
  };
}
