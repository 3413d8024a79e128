// A Koha REST API (23.11) as far as the broker uses it, written from Koha's
// api/v1/swagger: password validation, the patron list with `q`, one patron
// record, and the OAuth2 client-credentials token endpoint. Service
// authentication is checked exactly: Basic against one staff user, bearer
// tokens that expire after `tokenLifetime` seconds (or at once with
// `expireTokens()`), and a staff user with or without the borrowers
// permission (403, as Koha answers).
import { randomBytes } from 'node:crypto';
import { ILS_PATRONS, type IlsSimulator, type SimPatron, sameCard, startIlsHttp } from './ils-http.ts';

export const KOHA_STAFF = { user: 'patronym', password: 'koha-secret' };
export const KOHA_CLIENT = { clientId: 'patronym-client', clientSecret: 'koha-client-secret' };

export interface KohaSimulator extends IlsSimulator {
  tokensIssued(): number;
  expireTokens(): void;
  setPermission(borrowers: boolean): void;
}

export interface KohaSimOptions {
  patrons?: readonly SimPatron[];
  tokenLifetime?: number;
  port?: number;
  tls?: { cert: string; key: string };
}

// Koha's borrowernumber: the fixture's "p-0001" is 1.
const borrowernumber = (p: SimPatron) => Number(p.id.replace(/\D/g, ''));
const expiryOf = (p: SimPatron) => p.expires ?? (p.state === 'expired' ? '2020-01-31' : '2099-12-31');

export async function startKohaSimulator(options: KohaSimOptions = {}): Promise<KohaSimulator> {
  const patrons = options.patrons ?? ILS_PATRONS;
  const tokens = new Map<string, number>();
  let borrowersPermission = true;
  const lifetime = options.tokenLifetime ?? 3600;
  const state = { tokensIssued: 0 };

  const authorised = (header: string | undefined): boolean => {
    if (!header) return false;
    const [scheme, value = ''] = header.split(' ');
    if (scheme === 'Basic')
      return Buffer.from(value, 'base64').toString('utf8') === `${KOHA_STAFF.user}:${KOHA_STAFF.password}`;
    if (scheme === 'Bearer') return (tokens.get(value) ?? 0) > Date.now();
    return false;
  };

  const sim = await startIlsHttp(
    ({ method, url, headers, body }) => {
      const path = url.pathname;
      if (method === 'POST' && path === '/api/v1/oauth/token') {
        const form = new URLSearchParams(body);
        if (
          form.get('grant_type') !== 'client_credentials' ||
          form.get('client_id') !== KOHA_CLIENT.clientId ||
          form.get('client_secret') !== KOHA_CLIENT.clientSecret
        )
          return { status: 403, body: { error: 'unauthorized_client' } };
        const token = randomBytes(16).toString('hex');
        tokens.set(token, Date.now() + lifetime * 1000);
        state.tokensIssued++;
        return { status: 200, body: { access_token: token, token_type: 'Bearer', expires_in: lifetime } };
      }
      if (!authorised(headers.authorization)) return { status: 401, body: { error: 'Authentication failure.' } };
      if (!borrowersPermission)
        return { status: 403, body: { error: 'Authorization failure. Missing required permission(s).' } };

      if (method === 'POST' && path === '/api/v1/auth/password/validation') {
        const { identifier, password } = JSON.parse(body) as { identifier?: string; password?: string };
        const p = patrons.find((x) => sameCard(x.card, identifier ?? ''));
        if (!p || p.pin === undefined || p.pin !== password)
          return { status: 400, body: { error: 'Validation failed' } };
        if (p.screenMessages?.includes('password expired')) return { status: 400, body: { error: 'Password expired' } };
        return { status: 201, body: { cardnumber: p.card, patron_id: borrowernumber(p), userid: p.card } };
      }
      if (method === 'GET' && path === '/api/v1/patrons') {
        const q = url.searchParams.get('q');
        let found = [...patrons];
        if (q) {
          const query = JSON.parse(q) as { '-or'?: Array<{ cardnumber?: string; userid?: string }> };
          const wanted = (query['-or'] ?? []).flatMap((o) => [o.cardnumber, o.userid]).filter((v) => v !== undefined);
          found = found.filter((p) => wanted.some((w) => sameCard(p.card, w)));
        }
        const perPage = Number(url.searchParams.get('_per_page') ?? 20);
        return { status: 200, body: found.slice(0, perPage).map(record) };
      }
      const m = /^\/api\/v1\/patrons\/(\d+)$/.exec(path);
      if (method === 'GET' && m) {
        const p = patrons.find((x) => borrowernumber(x) === Number(m[1]));
        return p ? { status: 200, body: record(p) } : { status: 404, body: { error: 'Patron not found' } };
      }
      return { status: 404, body: { error: 'Not found' } };
    },
    { ...(options.port ? { port: options.port } : {}), ...(options.tls ? { tls: options.tls } : {}) },
  );
  return Object.assign(sim, {
    tokensIssued: () => state.tokensIssued,
    expireTokens: () => tokens.clear(),
    setPermission: (b: boolean) => {
      borrowersPermission = b;
    },
  });
}

function record(p: SimPatron) {
  return {
    patron_id: borrowernumber(p),
    cardnumber: p.card,
    userid: p.card,
    surname: p.name,
    email: p.email ?? null,
    expiry_date: expiryOf(p),
    restricted: p.state === 'blocked-flags',
  };
}
