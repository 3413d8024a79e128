// FOLIO through Okapi as far as the broker uses it, written from the
// mod-login, mod-users and patron-pin API docs (RAML/OpenAPI on
// dev.folio.org): login-with-expiry (the token as a folioAccessToken
// cookie that expires), users by a CQL barcode query (with CQL's masking
// characters and backslash escapes, as RMB reads them), patron-pin verify
// (200 or 422). Every call checks X-Okapi-Tenant and the token.
import { randomBytes, randomUUID } from 'node:crypto';
import { ILS_PATRONS, type IlsSimulator, type SimPatron, startIlsHttp } from './ils-http.ts';

export const FOLIO_USER = { tenant: 'diku', username: 'patronym', password: 'folio-secret' };

export interface FolioSimulator extends IlsSimulator {
  logins(): number;
  expireTokens(): void;
}

const expiryOf = (p: SimPatron) => p.expires ?? (p.state === 'expired' ? '2020-01-31' : '2099-12-31');

// CQL term → a matcher: `\x` is x, unescaped `*` any run, `?` one character.
function cqlMatcher(term: string): RegExp {
  let source = '';
  for (let i = 0; i < term.length; i++) {
    const c = term[i] as string;
    if (c === '\\') source += (term[++i] ?? '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    else if (c === '*') source += '.*';
    else if (c === '?') source += '.';
    else source += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 'i');
}

export async function startFolioSimulator(
  options: { patrons?: readonly SimPatron[]; tokenLifetime?: number; port?: number } = {},
): Promise<FolioSimulator> {
  const patrons = (options.patrons ?? ILS_PATRONS).map((p) => ({ p, uuid: randomUUID() }));
  const tokens = new Map<string, number>();
  const lifetime = options.tokenLifetime ?? 600;
  let logins = 0;

  const sim = await startIlsHttp(
    ({ method, url, headers, body }) => {
      if (headers['x-okapi-tenant'] !== FOLIO_USER.tenant)
        return { status: 400, body: 'No such Tenant', contentType: 'text/plain' };
      const path = url.pathname;
      if (method === 'POST' && path === '/authn/login-with-expiry') {
        const { username, password } = JSON.parse(body) as { username?: string; password?: string };
        if (username !== FOLIO_USER.username || password !== FOLIO_USER.password)
          return {
            status: 422,
            body: { errors: [{ message: 'Password does not match', code: 'password.incorrect' }] },
          };
        const token = randomBytes(24).toString('base64url');
        const until = Date.now() + lifetime * 1000;
        tokens.set(token, until);
        logins++;
        return {
          status: 201,
          body: {
            accessTokenExpiration: new Date(until).toISOString(),
            refreshTokenExpiration: new Date(until + 86_400_000).toISOString(),
          },
          headers: {
            'set-cookie': `folioAccessToken=${token}; Max-Age=${lifetime}; Path=/; Secure; HttpOnly; SameSite=None`,
          },
        };
      }
      const token = String(headers['x-okapi-token'] ?? '');
      if ((tokens.get(token) ?? 0) <= Date.now())
        return { status: 401, body: 'Invalid token', contentType: 'text/plain' };
      if (method === 'GET' && path === '/users') {
        const query = url.searchParams.get('query') ?? '';
        const limit = Number(url.searchParams.get('limit') ?? 10);
        const m = /^barcode=="((?:[^"\\]|\\.)*)"$/.exec(query);
        if (query !== '' && !m) return { status: 422, body: { errors: [{ message: 'CQL parse error' }] } };
        const match = m ? cqlMatcher(m[1] ?? '') : /./;
        const found = patrons.filter(({ p }) => match.test(p.card));
        return {
          status: 200,
          body: {
            users: found.slice(0, limit).map(({ p, uuid }) => ({
              id: uuid,
              barcode: p.card,
              active: p.state !== 'blocked-flags' && p.state !== 'expired',
              expirationDate: `${expiryOf(p)}T23:59:59.000+00:00`,
              personal: { lastName: p.name },
            })),
            totalRecords: found.length,
          },
        };
      }
      if (method === 'POST' && path === '/patron-pin/verify') {
        const { id, pin } = JSON.parse(body) as { id?: string; pin?: string };
        const user = patrons.find((u) => u.uuid === id);
        return user && user.p.pin !== undefined && user.p.pin === pin ? { status: 200 } : { status: 422 };
      }
      return { status: 404, body: 'No suitable module found', contentType: 'text/plain' };
    },
    options.port ? { port: options.port } : {},
  );
  return Object.assign(sim, { logins: () => logins, expireTokens: () => tokens.clear() });
}
