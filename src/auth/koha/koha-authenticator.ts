// `koha` authenticator: Koha's REST API (23.11 and later).
// 1. POST /api/v1/auth/password/validation {identifier, password}: 201 with
//    {cardnumber, patron_id, userid} when the password is right; 400
//    "Password expired" or "Validation failed" otherwise.
// 2. Koha says "Validation failed" for an unknown card and a wrong PIN
//    alike; the chain needs to know which (an unknown card moves on to the
//    next authenticator), so a failure is followed by a lookup by card.
// 3. With checkRecord, GET /api/v1/patrons/{patron_id} for the expiry date
//    and the `restricted` flag (a debarment).
// stableId is Koha's borrowernumber (`patron_id`): it survives a new card.
import { resolveSecret } from '../../config/load.ts';
import { PatronymError } from '../../errors.ts';
import { type Authenticator, type AuthResult, type Credentials, denied, ok } from '../authenticator.ts';
import { expiredOn, guarded, isoDay } from '../http/guard.ts';
import { IlsClient, type IlsRequest, type IlsResponse, IlsUnavailable } from '../http/ils-client.ts';
import { type ServiceAuth, sendAuthorized } from '../http/service-auth.ts';
import type { KohaOptions } from './options.ts';
import { basicAuth, oauthClientCredentials } from './service-auth.ts';

const VALIDATE = 'POST /api/v1/auth/password/validation';
const RECORD = 'GET /api/v1/patrons/{patron_id}';
const SEARCH = 'GET /api/v1/patrons?q={card}';

export interface KohaContext {
  now?: () => number;
  env?: NodeJS.ProcessEnv;
}

const errorOf = (body: unknown): string =>
  typeof body === 'object' && body !== null && typeof (body as { error?: unknown }).error === 'string'
    ? (body as { error: string }).error
    : '';

export class KohaAuthenticator implements Authenticator {
  readonly kind = 'koha';
  readonly id: string;
  readonly #options: KohaOptions;
  readonly #client: IlsClient;
  readonly #auth: ServiceAuth;
  readonly #now: () => number;

  constructor(id: string, options: KohaOptions, context: KohaContext = {}) {
    this.id = id;
    this.#options = options;
    this.#now = context.now ?? Date.now;
    this.#client = new IlsClient('koha', options);
    const a = options.auth;
    this.#auth =
      'basic' in a
        ? basicAuth(a.basic.user, resolveSecret(a.basic.password, `koha: "${id}" auth.basic.password`, context.env))
        : oauthClientCredentials(
            this.#client,
            a.oauth.clientId,
            resolveSecret(a.oauth.clientSecret, `koha: "${id}" auth.oauth.clientSecret`, context.env),
            this.#now,
          );
  }

  authenticate(credentials: Credentials): Promise<AuthResult> {
    return guarded('koha', credentials, () => this.#authenticate(credentials));
  }

  async #authenticate({ card, pin }: Credentials): Promise<AuthResult> {
    const response = await this.#send({
      method: 'POST',
      path: '/api/v1/auth/password/validation',
      label: VALIDATE,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ identifier: card, password: pin }),
    });
    if (response.status === 400) {
      const error = errorOf(this.#client.json(response, VALIDATE));
      if (/password expired/i.test(error)) return denied('expired', 'Koha: password expired');
      if (!/validation failed/i.test(error))
        throw new IlsUnavailable(`${this.#client.where(VALIDATE)}: HTTP 400 ${JSON.stringify(error.slice(0, 80))}`);
      return (await this.#cardKnown(card)) ? denied('bad-credentials') : denied('unknown-card');
    }
    if (response.status !== 201) this.#unexpected(response, VALIDATE);
    const body = this.#client.json(response, VALIDATE) as { patron_id?: unknown };
    const id = body.patron_id;
    if ((typeof id !== 'number' && typeof id !== 'string') || String(id) === '')
      throw new IlsUnavailable(
        `${this.#client.where(VALIDATE)}: 201 without a patron_id (Koha before 23.11? the broker needs the record id)`,
      );
    const stableId = String(id);
    if (this.#options.checkRecord) {
      const path = `/api/v1/patrons/${encodeURIComponent(stableId)}`;
      const record = await this.#send({ method: 'GET', path, label: RECORD, idempotent: true });
      if (record.status !== 200) this.#unexpected(record, RECORD);
      const patron = this.#client.json(record, RECORD) as { expiry_date?: unknown; restricted?: unknown };
      if (expiredOn(isoDay(patron.expiry_date), this.#now())) return denied('expired', 'Koha: expiry_date passed');
      if (patron.restricted === true) return denied('blocked', 'Koha: patron restricted');
    }
    return ok({ stableId, attributes: {} });
  }

  // Does Koha know this card (or user name, as the validation accepts
  // both)? `q` takes JSON, so the card needs no escaping beyond JSON's.
  async #cardKnown(card: string): Promise<boolean> {
    const q = JSON.stringify({ '-or': [{ cardnumber: card }, { userid: card }] });
    const path = `/api/v1/patrons?_per_page=1&q=${encodeURIComponent(q)}`;
    const response = await this.#send({ method: 'GET', path, label: SEARCH, idempotent: true });
    if (response.status !== 200) this.#unexpected(response, SEARCH);
    const list = this.#client.json(response, SEARCH);
    if (!Array.isArray(list)) throw new IlsUnavailable(`${this.#client.where(SEARCH)}: answer is not a list`);
    return list.length > 0;
  }

  #send(request: IlsRequest): Promise<IlsResponse> {
    return sendAuthorized(this.#client, this.#auth, request);
  }

  #unexpected(response: IlsResponse, label: string): never {
    if (response.status === 403)
      throw new IlsUnavailable(
        `${this.#client.where(label)}: HTTP 403: the API user lacks the borrowers permission (give ${this.#auth.describe} "borrowers")`,
      );
    throw new IlsUnavailable(`${this.#client.where(label)}: unexpected ${this.#client.status(response)}`);
  }

  // Koha finds cards through MySQL's default case- and accent-insensitive
  // collation, which also ignores trailing blanks: one counter for all
  // those spellings.
  canonicalCard(card: string): string {
    return card.normalize('NFD').replace(/\p{M}/gu, '').trim().toUpperCase();
  }

  // For `patronym check`: the service account reads one patron record,
  // which needs both valid credentials and the borrowers permission.
  async check(): Promise<string> {
    const label = 'GET /api/v1/patrons?_per_page=1';
    try {
      const response = await this.#send({
        method: 'GET',
        path: '/api/v1/patrons?_per_page=1',
        label,
        idempotent: true,
      });
      if (response.status !== 200) this.#unexpected(response, label);
      if (!Array.isArray(this.#client.json(response, label)))
        throw new IlsUnavailable(`${this.#client.where(label)}: answer is not a list`);
      return `koha ${this.#client.origin}: ${this.#auth.describe} accepted, borrowers permission present`;
    } catch (error) {
      if (error instanceof IlsUnavailable) throw new PatronymError('koha_check_failed', error.message);
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.#client.close();
  }
}

// So the registry imports this backend in one line.
export { kohaOptionsSchema } from './options.ts';
