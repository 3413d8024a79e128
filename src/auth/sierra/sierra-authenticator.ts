// `sierra` authenticator: Sierra REST API v6.
// 1. A client-credentials token from POST /v6/token (Basic key:secret),
//    cached until it expires, fetched again after a 401.
// 2. POST /v6/patrons/validate {barcode, pin, caseSensitivity: false}:
//    204 when the PIN is right; 400 "Invalid barcode or PIN" otherwise.
// 3. GET /v6/patrons/find?varFieldTag=b&varFieldContent={barcode}: after a
//    valid PIN for the record id (stableId), expiry date and block code;
//    after a refused one to tell an unknown barcode (404) from a wrong PIN.
import { resolveSecret } from '../../config/load.ts';
import { PatronymError } from '../../errors.ts';
import { type Authenticator, type AuthResult, type Credentials, denied, ok } from '../authenticator.ts';
import { expiredOn, guarded, isoDay } from '../http/guard.ts';
import { IlsClient, type IlsRequest, type IlsResponse, IlsUnavailable } from '../http/ils-client.ts';
import { type ServiceAuth, sendAuthorized } from '../http/service-auth.ts';
import { TokenCache } from '../http/token-cache.ts';
import type { SierraOptions } from './options.ts';

const TOKEN = 'POST /v6/token';
const VALIDATE = 'POST /v6/patrons/validate';
const FIND = 'GET /v6/patrons/find?varFieldTag=b&varFieldContent={barcode}';

export interface SierraContext {
  now?: () => number;
  env?: NodeJS.ProcessEnv;
}

interface SierraPatron {
  id?: unknown;
  expirationDate?: unknown;
  blockInfo?: { code?: unknown };
}

export class SierraAuthenticator implements Authenticator {
  readonly kind = 'sierra';
  readonly id: string;
  readonly #options: SierraOptions;
  readonly #client: IlsClient;
  readonly #auth: ServiceAuth;
  readonly #tokens: TokenCache;
  readonly #now: () => number;

  constructor(id: string, options: SierraOptions, context: SierraContext = {}) {
    this.id = id;
    this.#options = options;
    this.#now = context.now ?? Date.now;
    this.#client = new IlsClient('sierra', options);
    const secret = resolveSecret(options.clientSecret, `sierra: "${id}" clientSecret`, context.env);
    const basic = `Basic ${Buffer.from(`${options.clientKey}:${secret}`, 'utf8').toString('base64')}`;
    this.#tokens = new TokenCache(() => this.#token(basic), this.#now);
    this.#auth = {
      header: async () => ({ authorization: `Bearer ${await this.#tokens.get()}` }),
      refused: (headers) => {
        this.#tokens.invalidate((headers.authorization ?? '').slice('Bearer '.length));
        return true;
      },
      describe: `token for client key ${JSON.stringify(options.clientKey)}`,
    };
  }

  async #token(basic: string) {
    const response = await this.#client.request({
      method: 'POST',
      path: '/v6/token',
      label: TOKEN,
      headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    if (response.status === 400 || response.status === 401 || response.status === 403)
      throw new IlsUnavailable(
        `${this.#client.where(TOKEN)}: HTTP ${response.status}: client key ${JSON.stringify(this.#options.clientKey)} or its secret refused`,
      );
    const body = this.#client.json(response, TOKEN) as { access_token?: unknown; expires_in?: unknown };
    if (response.status !== 200 || typeof body.access_token !== 'string' || body.access_token === '')
      throw new IlsUnavailable(
        `${this.#client.where(TOKEN)}: ${this.#client.status(response)} without an access_token`,
      );
    return { token: body.access_token, expiresIn: typeof body.expires_in === 'number' ? body.expires_in : undefined };
  }

  authenticate(credentials: Credentials): Promise<AuthResult> {
    return guarded('sierra', credentials, () => this.#authenticate(credentials));
  }

  async #authenticate({ card, pin }: Credentials): Promise<AuthResult> {
    const response = await this.#send({
      method: 'POST',
      path: '/v6/patrons/validate',
      label: VALIDATE,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ barcode: card, pin, caseSensitivity: false }),
    });
    // Sierra answers a valid PIN with 204 and no body. A 2xx with a body
    // is not Sierra (a proxy's or a portal's page): never a sign-in.
    const valid = response.status >= 200 && response.status < 300 && response.text.trim() === '';
    if (!valid && response.status !== 400) this.#unexpected(response, VALIDATE);
    const patron = await this.#find(card);
    if (!valid) return patron ? denied('bad-credentials') : denied('unknown-card');
    // Validated a moment ago, gone now: the ILS is changing under us.
    if (!patron) throw new IlsUnavailable(`${this.#client.where(FIND)}: 404 for a barcode that had just validated`);
    const id = patron.id;
    if ((typeof id !== 'number' && typeof id !== 'string') || String(id) === '')
      throw new IlsUnavailable(`${this.#client.where(FIND)}: patron without an id`);
    if (expiredOn(isoDay(patron.expirationDate), this.#now()))
      return denied('expired', 'Sierra: expirationDate passed');
    const block = typeof patron.blockInfo?.code === 'string' ? patron.blockInfo.code.trim() : '-';
    const blocks = this.#options.blockCodes;
    if (blocks ? blocks.includes(block) : block !== '-' && block !== '')
      return denied('blocked', `Sierra: block code ${JSON.stringify(block)}`);
    return ok({ stableId: String(id), attributes: {} });
  }

  // The patron with this barcode, or undefined (Sierra's 404, code 107).
  async #find(card: string): Promise<SierraPatron | undefined> {
    const query = new URLSearchParams({
      varFieldTag: 'b',
      varFieldContent: card,
      fields: 'id,expirationDate,blockInfo',
    });
    const response = await this.#send({
      method: 'GET',
      path: `/v6/patrons/find?${query}`,
      label: FIND,
      idempotent: true,
    });
    if (response.status === 404) return undefined;
    if (response.status !== 200) this.#unexpected(response, FIND);
    const body = this.#client.json(response, FIND);
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw new IlsUnavailable(`${this.#client.where(FIND)}: answer is not a patron`);
    return body as SierraPatron;
  }

  #send(request: IlsRequest): Promise<IlsResponse> {
    return sendAuthorized(this.#client, this.#auth, request);
  }

  #unexpected(response: IlsResponse, label: string): never {
    if (response.status === 403)
      throw new IlsUnavailable(
        `${this.#client.where(label)}: HTTP 403: client key ${JSON.stringify(this.#options.clientKey)} lacks a role (Patrons Read, Patrons Validate)`,
      );
    throw new IlsUnavailable(`${this.#client.where(label)}: unexpected ${this.#client.status(response)}`);
  }

  // Sierra's barcode index ignores case (and the validation is asked to,
  // caseSensitivity false); surrounding blanks are not part of a barcode.
  canonicalCard(card: string): string {
    return card.trim().toUpperCase();
  }

  // For `patronym check`: a token, then Sierra's own account of it.
  async check(): Promise<string> {
    const label = 'GET /v6/info/token';
    try {
      const response = await this.#send({ method: 'GET', path: '/v6/info/token', label, idempotent: true });
      if (response.status !== 200) this.#unexpected(response, label);
      const info = this.#client.json(response, label) as { roles?: Array<{ name?: unknown }> };
      const roles = (info.roles ?? []).map((r) => String(r.name)).join(', ');
      return `sierra ${this.#client.origin}: ${this.#auth.describe} issued, roles: ${roles || 'none listed'}`;
    } catch (error) {
      if (error instanceof IlsUnavailable) throw new PatronymError('sierra_check_failed', error.message);
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.#client.close();
  }
}

// So the registry imports this backend in one line.
export { sierraOptionsSchema } from './options.ts';
