// `folio` authenticator: FOLIO (Okapi, Poppy and later).
// 1. The service user logs in: POST /authn/login-with-expiry; the access
//    token comes as the `folioAccessToken` cookie, cached until
//    `accessTokenExpiration`, logged in again after a 401.
// 2. GET /users?query=barcode=="{card}" (CQL-escaped): the user's UUID
//    (stableId), `active` and `expirationDate`; no user: unknown card.
// 3. POST /patron-pin/verify {id, pin}: 200 right, 422 wrong.

import { resolveSecret } from '../../config/load.ts';
import { PatronymError } from '../../errors.ts';
import { type Authenticator, type AuthResult, type Credentials, denied, ok } from '../authenticator.ts';
import { expiredOn, guarded, isoDay } from '../http/guard.ts';
import { IlsClient, type IlsRequest, type IlsResponse, IlsUnavailable } from '../http/ils-client.ts';
import { type ServiceAuth, sendAuthorized } from '../http/service-auth.ts';
import { type IssuedToken, TokenCache } from '../http/token-cache.ts';
import { cqlString } from './cql.ts';
import type { FolioOptions } from './options.ts';

const LOGIN = 'POST /authn/login-with-expiry';
const USERS = 'GET /users?query=barcode=={card}';
const VERIFY = 'POST /patron-pin/verify';

export interface FolioContext {
  now?: () => number;
  env?: NodeJS.ProcessEnv;
}

interface FolioUser {
  id?: unknown;
  active?: unknown;
  expirationDate?: unknown;
}

export class FolioAuthenticator implements Authenticator {
  readonly kind = 'folio';
  readonly id: string;
  readonly #options: FolioOptions;
  readonly #client: IlsClient;
  readonly #auth: ServiceAuth;
  readonly #now: () => number;

  constructor(id: string, options: FolioOptions, context: FolioContext = {}) {
    this.id = id;
    this.#options = options;
    this.#now = context.now ?? Date.now;
    this.#client = new IlsClient('folio', options);
    const password = resolveSecret(options.password, `folio: "${id}" password`, context.env);
    const tokens = new TokenCache(() => this.#login(password), this.#now);
    this.#auth = {
      header: async () => ({ 'x-okapi-tenant': options.tenant, 'x-okapi-token': await tokens.get() }),
      refused: (headers) => {
        tokens.invalidate(headers['x-okapi-token'] ?? '');
        return true;
      },
      describe: `login as ${JSON.stringify(options.username)} (tenant ${JSON.stringify(options.tenant)})`,
    };
  }

  async #login(password: string): Promise<IssuedToken> {
    const response = await this.#client.request({
      method: 'POST',
      path: '/authn/login-with-expiry',
      label: LOGIN,
      headers: { 'content-type': 'application/json', 'x-okapi-tenant': this.#options.tenant },
      body: JSON.stringify({ username: this.#options.username, password }),
    });
    if (response.status === 422 || response.status === 400 || response.status === 401)
      throw new IlsUnavailable(
        `${this.#client.where(LOGIN)}: HTTP ${response.status}: ${this.#auth.describe} refused (check username and password)`,
      );
    if (response.status !== 201)
      throw new IlsUnavailable(`${this.#client.where(LOGIN)}: unexpected ${this.#client.status(response)}`);
    const token = /(?:^|;\s*)folioAccessToken=([^;]+)/.exec(
      response.setCookie.find((c) => c.startsWith('folioAccessToken=')) ?? '',
    )?.[1];
    if (!token) throw new IlsUnavailable(`${this.#client.where(LOGIN)}: 201 without a folioAccessToken cookie`);
    const body = this.#client.json(response, LOGIN) as { accessTokenExpiration?: unknown };
    const until = typeof body.accessTokenExpiration === 'string' ? Date.parse(body.accessTokenExpiration) : Number.NaN;
    return { token, expiresIn: Number.isNaN(until) ? undefined : Math.max(0, (until - this.#now()) / 1000) };
  }

  authenticate(credentials: Credentials): Promise<AuthResult> {
    return guarded('folio', credentials, () => this.#authenticate(credentials));
  }

  async #authenticate({ card, pin }: Credentials): Promise<AuthResult> {
    const query = new URLSearchParams({ query: `barcode==${cqlString(card)}`, limit: '2' });
    const found = await this.#send({ method: 'GET', path: `/users?${query}`, label: USERS, idempotent: true });
    if (found.status !== 200) this.#unexpected(found, USERS);
    const users = (this.#client.json(found, USERS) as { users?: unknown }).users;
    if (!Array.isArray(users)) throw new IlsUnavailable(`${this.#client.where(USERS)}: answer without a users list`);
    if (users.length === 0) return denied('unknown-card');
    // Barcodes are unique in FOLIO; two answers mean the query matched more
    // than one card, which must never sign anybody in.
    if (users.length > 1) return denied('unknown-card', 'FOLIO: barcode query matched more than one user');
    const user = users[0] as FolioUser;
    if (typeof user.id !== 'string' || user.id === '')
      throw new IlsUnavailable(`${this.#client.where(USERS)}: user without an id`);
    const verify = await this.#send({
      method: 'POST',
      path: '/patron-pin/verify',
      label: VERIFY,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: user.id, pin }),
    });
    if (verify.status === 422) return denied('bad-credentials');
    // mod-users answers a right PIN with 200 and no body; a 200 carrying a
    // page (a proxy's, a portal's) is not FOLIO and never signs anybody in.
    const bare = verify.text.trim() === '' || /json/.test(verify.contentType);
    if (verify.status !== 200 || !bare) this.#unexpected(verify, VERIFY);
    if (expiredOn(isoDay(user.expirationDate), this.#now())) return denied('expired', 'FOLIO: expirationDate passed');
    if (user.active !== true) return denied('blocked', 'FOLIO: user not active');
    return ok({ stableId: user.id, attributes: {} });
  }

  #send(request: IlsRequest): Promise<IlsResponse> {
    return sendAuthorized(this.#client, this.#auth, request);
  }

  #unexpected(response: IlsResponse, label: string): never {
    if (response.status === 403)
      throw new IlsUnavailable(
        `${this.#client.where(label)}: HTTP 403: ${JSON.stringify(this.#options.username)} lacks a permission (users.collection.get, patron-pin.verify)`,
      );
    throw new IlsUnavailable(`${this.#client.where(label)}: unexpected ${this.#client.status(response)}`);
  }

  // RMB matches CQL terms ignoring case and accents (its default indexes).
  canonicalCard(card: string): string {
    return card.normalize('NFD').replace(/\p{M}/gu, '').trim().toUpperCase();
  }

  async check(): Promise<string> {
    const label = 'GET /users?limit=0';
    try {
      const response = await this.#send({ method: 'GET', path: '/users?limit=0', label, idempotent: true });
      if (response.status !== 200) this.#unexpected(response, label);
      this.#client.json(response, label);
      return `folio ${this.#client.origin}: ${this.#auth.describe} accepted, users readable`;
    } catch (error) {
      if (error instanceof IlsUnavailable) throw new PatronymError('folio_check_failed', error.message);
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.#client.close();
  }
}

// So the registry imports this backend in one line.
export { folioOptionsSchema } from './options.ts';
