// A Sierra REST API v6 as far as the broker uses it, written from the
// Sierra API reference (techdocs.iii.com/sierraapi): the client-credentials
// token (Basic key:secret, bearer tokens that expire), patron validation
// (204, or 400 code 108), patron find by barcode (404 code 107), token info.
import { randomBytes } from 'node:crypto';
import { ILS_PATRONS, type IlsSimulator, type SimPatron, sameCard, startIlsHttp } from './ils-http.ts';

export const SIERRA_CLIENT = { clientKey: 'patronym-key', clientSecret: 'sierra-secret' };
const ROOT = '/iii/sierra-api/v6';

export interface SierraSimulator extends IlsSimulator {
  apiUrl: string;
  tokensIssued(): number;
  expireTokens(): void;
}

// Sierra record numbers: the fixture's "p-0001" is 1000001.
const recordId = (p: SimPatron) => 1_000_000 + Number(p.id.replace(/\D/g, ''));
const expiryOf = (p: SimPatron) => p.expires ?? (p.state === 'expired' ? '2020-01-31' : '2099-12-31');
const error = (httpStatus: number, code: number, name: string, description?: string) => ({
  status: httpStatus,
  body: { code, specificCode: 0, httpStatus, name, ...(description ? { description } : {}) },
});

export async function startSierraSimulator(
  options: { patrons?: readonly SimPatron[]; tokenLifetime?: number; port?: number } = {},
): Promise<SierraSimulator> {
  const patrons = options.patrons ?? ILS_PATRONS;
  const tokens = new Map<string, number>();
  const lifetime = options.tokenLifetime ?? 3600;
  let issued = 0;
  const basic = `Basic ${Buffer.from(`${SIERRA_CLIENT.clientKey}:${SIERRA_CLIENT.clientSecret}`).toString('base64')}`;

  const sim = await startIlsHttp(
    ({ method, url, headers, body }) => {
      const path = url.pathname;
      if (method === 'POST' && path === `${ROOT}/token`) {
        if (headers.authorization !== basic || new URLSearchParams(body).get('grant_type') !== 'client_credentials')
          return error(401, 123, 'Unauthorized', 'invalid_client');
        const token = randomBytes(24).toString('base64url');
        tokens.set(token, Date.now() + lifetime * 1000);
        issued++;
        return { status: 200, body: { access_token: token, token_type: 'bearer', expires_in: lifetime } };
      }
      const [scheme, token = ''] = (headers.authorization ?? '').split(' ');
      if (scheme?.toLowerCase() !== 'bearer' || (tokens.get(token) ?? 0) <= Date.now())
        return error(401, 123, 'Unauthorized', 'invalid_grant');

      if (method === 'POST' && path === `${ROOT}/patrons/validate`) {
        const { barcode, pin } = JSON.parse(body) as { barcode?: string; pin?: string };
        const p = patrons.find((x) => sameCard(x.card, barcode ?? ''));
        if (!p || p.pin === undefined || p.pin !== pin)
          return error(400, 108, 'Invalid parameter', 'Invalid barcode or PIN');
        return { status: 204 };
      }
      if (method === 'GET' && path === `${ROOT}/patrons/find`) {
        if (url.searchParams.get('varFieldTag') !== 'b') return error(400, 108, 'Invalid parameter');
        const p = patrons.find((x) => sameCard(x.card, url.searchParams.get('varFieldContent') ?? ''));
        if (!p) return error(404, 107, 'Record not found');
        return {
          status: 200,
          body: {
            id: recordId(p),
            names: [p.name],
            barcodes: [p.card],
            expirationDate: expiryOf(p),
            blockInfo: { code: p.state === 'blocked-flags' ? 'c' : '-' },
          },
        };
      }
      if (method === 'GET' && path === `${ROOT}/info/token`)
        return {
          status: 200,
          body: {
            keyId: SIERRA_CLIENT.clientKey,
            grantType: 'client_credentials',
            expiresIn: Math.round(((tokens.get(token) ?? 0) - Date.now()) / 1000),
            roles: [{ name: 'Patrons_Read' }, { name: 'Patrons_Validate' }],
          },
        };
      return error(404, 107, 'Record not found');
    },
    options.port ? { port: options.port } : {},
  );
  return Object.assign(sim, {
    apiUrl: `${sim.baseUrl}/iii/sierra-api`,
    tokensIssued: () => issued,
    expireTokens: () => tokens.clear(),
  });
}
