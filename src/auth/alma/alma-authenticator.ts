// `alma` authenticator: Alma REST Users API (/almaws/v1).
// 1. POST /users/{id}?op=auth with the PIN in the Exl-User-Pw header:
//    204 when right (internal users with a password only).
// 2. GET /users/{id}?user_id_type=all_unique: after a refusal, found or
//    not tells a wrong PIN from an unknown card; after success, primary_id
//    (stableId, Alma's permanent key), expiry_date, status and user_block.
// Alma reports errors as 400 with an errorList; only "user not found"
// codes are answers, everything else is an outage.

import { resolveSecret } from '../../config/load.ts';
import { PatronymError } from '../../errors.ts';
import { type Authenticator, type AuthResult, type Credentials, denied, ok } from '../authenticator.ts';
import { expiredOn, guarded, isoDay } from '../http/guard.ts';
import { IlsClient, type IlsResponse, IlsUnavailable } from '../http/ils-client.ts';
import type { AlmaOptions } from './options.ts';

const AUTH = 'POST /almaws/v1/users/{id}?op=auth';
const USER = 'GET /almaws/v1/users/{id}';
// Alma's "user not found" error codes (Users API error list).
const NOT_FOUND = new Set(['401861', '401890']);

export interface AlmaContext {
  now?: () => number;
  env?: NodeJS.ProcessEnv;
}

interface AlmaUser {
  primary_id?: unknown;
  expiry_date?: unknown;
  status?: { value?: unknown };
  user_block?: Array<{ block_status?: unknown }>;
}

const errorCodes = (body: unknown): string[] => {
  const list = (body as { errorList?: { error?: Array<{ errorCode?: unknown }> } } | null)?.errorList?.error;
  return Array.isArray(list) ? list.map((e) => String(e.errorCode)) : [];
};

export class AlmaAuthenticator implements Authenticator {
  readonly kind = 'alma';
  readonly id: string;
  readonly #client: IlsClient;
  readonly #apiKey: string;
  readonly #now: () => number;

  constructor(id: string, options: AlmaOptions, context: AlmaContext = {}) {
    this.id = id;
    this.#now = context.now ?? Date.now;
    this.#client = new IlsClient('alma', options);
    this.#apiKey = resolveSecret(options.apiKey, `alma: "${id}" apiKey`, context.env);
  }

  authenticate(credentials: Credentials): Promise<AuthResult> {
    return guarded('alma', credentials, () => this.#authenticate(credentials));
  }

  async #authenticate({ card, pin }: Credentials): Promise<AuthResult> {
    // A header cannot carry control characters or non-Latin-1 text; such a
    // PIN cannot be any patron's Alma password.
    if (/[^\x20-\x7e\xa0-\xff]/.test(pin)) return denied('bad-credentials', 'PIN cannot be sent in a header');
    const id = encodeURIComponent(card);
    const auth = await this.#client.request({
      method: 'POST',
      path: `/almaws/v1/users/${id}?op=auth`,
      label: AUTH,
      headers: { authorization: `apikey ${this.#apiKey}`, 'exl-user-pw': pin },
    });
    const valid = auth.status === 204;
    if (!valid && auth.status !== 400) this.#unexpected(auth, AUTH);
    const user = await this.#user(id);
    if (!valid) return user ? denied('bad-credentials') : denied('unknown-card');
    if (!user) throw new IlsUnavailable(`${this.#client.where(USER)}: not found after a successful op=auth`);
    if (typeof user.primary_id !== 'string' || user.primary_id === '')
      throw new IlsUnavailable(`${this.#client.where(USER)}: user without a primary_id`);
    if (expiredOn(isoDay(user.expiry_date), this.#now())) return denied('expired', 'Alma: expiry_date passed');
    if (user.status?.value !== 'ACTIVE') return denied('blocked', 'Alma: status not ACTIVE');
    if ((user.user_block ?? []).some((b) => b.block_status === 'ACTIVE'))
      return denied('blocked', 'Alma: active user block');
    return ok({ stableId: user.primary_id, attributes: {} });
  }

  async #user(id: string): Promise<AlmaUser | undefined> {
    const response = await this.#client.request({
      method: 'GET',
      path: `/almaws/v1/users/${id}?user_id_type=all_unique&view=full&expand=none`,
      label: USER,
      headers: { authorization: `apikey ${this.#apiKey}` },
      idempotent: true,
    });
    if (response.status === 400 && errorCodes(this.#client.json(response, USER)).some((c) => NOT_FOUND.has(c)))
      return undefined;
    if (response.status !== 200) this.#unexpected(response, USER);
    return this.#client.json(response, USER) as AlmaUser;
  }

  #unexpected(response: IlsResponse, label: string): never {
    let codes: string[] = [];
    try {
      codes = errorCodes(JSON.parse(response.text));
    } catch {}
    if (response.status === 401 || response.status === 403 || codes.some((c) => /API_KEY|UNAUTHORIZED/.test(c)))
      throw new IlsUnavailable(
        `${this.#client.where(label)}: HTTP ${response.status}: the API key was refused or lacks Users read/write${codes.length ? ` (${codes.join(', ')})` : ''}`,
      );
    throw new IlsUnavailable(
      `${this.#client.where(label)}: unexpected ${this.#client.status(response)}${codes.length ? ` (${codes.join(', ')})` : ''}`,
    );
  }

  // Alma matches user identifiers ignoring case.
  canonicalCard(card: string): string {
    return card.trim().toUpperCase();
  }

  // For `patronym check`: the key's own test call (GET /almaws/v1/users/test).
  async check(): Promise<string> {
    const label = 'GET /almaws/v1/users/test';
    try {
      const response = await this.#client.request({
        method: 'GET',
        path: '/almaws/v1/users/test',
        label,
        headers: { authorization: `apikey ${this.#apiKey}` },
        idempotent: true,
      });
      if (response.status !== 200) this.#unexpected(response, label);
      return `alma ${this.#client.origin}: API key accepted for Users`;
    } catch (error) {
      if (error instanceof IlsUnavailable) throw new PatronymError('alma_check_failed', error.message);
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.#client.close();
  }
}

// So the registry imports this backend in one line.
export { almaOptionsSchema } from './options.ts';
