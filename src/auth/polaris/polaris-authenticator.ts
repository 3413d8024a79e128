// `polaris` authenticator: Polaris PAPI public methods (7.x).
// 1. POST authenticator/patron {Barcode, Password} (AuthenticatePatron):
//    a PatronID and a PAPIErrorCode that is not negative when right.
// 2. GET patron/{barcode}/circulationblocks (PatronCirculateBlocksGet):
//    after a refused password, ValidPatron tells an unknown card from a
//    wrong PIN; after a right one, ExpirationDate and CanPatronCirculate.
// Every request carries the PWS signature (signature.ts). stableId is
// Polaris' PatronID, which a new barcode keeps.
import { resolveSecret } from '../../config/load.ts';
import { PatronymError } from '../../errors.ts';
import { type Authenticator, type AuthResult, type Credentials, denied, ok } from '../authenticator.ts';
import { expiredOn, guarded } from '../http/guard.ts';
import { IlsClient, type IlsResponse, IlsUnavailable } from '../http/ils-client.ts';
import type { PolarisOptions } from './options.ts';
import { papiDay, papiHeaders } from './signature.ts';

const AUTHENTICATE = 'POST authenticator/patron';
const BLOCKS = 'GET patron/{barcode}/circulationblocks';

export interface PolarisContext {
  now?: () => number;
  env?: NodeJS.ProcessEnv;
}

interface PapiAnswer {
  PAPIErrorCode?: unknown;
  ErrorMessage?: unknown;
  PatronID?: unknown;
  ValidPatron?: unknown;
  ExpirationDate?: unknown;
  CanPatronCirculate?: unknown;
}

export class PolarisAuthenticator implements Authenticator {
  readonly kind = 'polaris';
  readonly id: string;
  readonly #options: PolarisOptions;
  readonly #client: IlsClient;
  readonly #accessKey: string;
  readonly #root: string;
  readonly #now: () => number;

  constructor(id: string, options: PolarisOptions, context: PolarisContext = {}) {
    this.id = id;
    this.#options = options;
    this.#now = context.now ?? Date.now;
    this.#client = new IlsClient('polaris', options);
    this.#accessKey = resolveSecret(options.accessKey, `polaris: "${id}" accessKey`, context.env);
    this.#root = options.baseUrl.replace(/\/+$/, '');
  }

  authenticate(credentials: Credentials): Promise<AuthResult> {
    return guarded('polaris', credentials, () => this.#authenticate(credentials));
  }

  async #authenticate({ card, pin }: Credentials): Promise<AuthResult> {
    const answer = await this.#papi(
      'POST',
      '/authenticator/patron',
      AUTHENTICATE,
      JSON.stringify({ Barcode: card, Password: pin }),
    );
    const code = Number(answer.PAPIErrorCode);
    const patronId = Number(answer.PatronID);
    const blocks = await this.#blocks(card);
    if (!(code >= 0 && patronId > 0))
      return blocks.ValidPatron === true ? denied('bad-credentials') : denied('unknown-card');
    if (expiredOn(papiDay(blocks.ExpirationDate), this.#now()))
      return denied('expired', 'Polaris: ExpirationDate passed');
    if (this.#options.blockWhenCannotCirculate && blocks.CanPatronCirculate === false)
      return denied('blocked', 'Polaris: CanPatronCirculate false');
    return ok({ stableId: String(patronId), attributes: {} });
  }

  #blocks(card: string): Promise<PapiAnswer> {
    return this.#papi('GET', `/patron/${encodeURIComponent(card)}/circulationblocks`, BLOCKS);
  }

  // One signed PAPI call. PAPI answers errors with HTTP 200 and a negative
  // PAPIErrorCode; only the patron-level codes of the two calls above are
  // answers, so the caller reads the code.
  async #papi(method: 'GET' | 'POST', path: string, label: string, body?: string): Promise<PapiAnswer> {
    const response = await this.#client.request({
      method,
      path,
      label,
      headers: {
        ...papiHeaders(this.#options.accessId, this.#accessKey, method, this.#root + path, this.#now()),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body }),
      idempotent: method === 'GET',
    });
    if (response.status !== 200) this.#unexpected(response, label);
    const answer = this.#client.json(response, label);
    if (typeof answer !== 'object' || answer === null || typeof (answer as PapiAnswer).PAPIErrorCode !== 'number')
      throw new IlsUnavailable(`${this.#client.where(label)}: answer without a PAPIErrorCode`);
    return answer as PapiAnswer;
  }

  #unexpected(response: IlsResponse, label: string): never {
    if (response.status === 401)
      throw new IlsUnavailable(
        `${this.#client.where(label)}: HTTP 401: PAPI refused the signature of access ID ${JSON.stringify(this.#options.accessId)} (check accessId, accessKey, the key's permissions and this machine's clock)`,
      );
    throw new IlsUnavailable(`${this.#client.where(label)}: unexpected ${this.#client.status(response)}`);
  }

  // Polaris looks barcodes up in SQL Server's default case-insensitive
  // collation, which ignores trailing blanks.
  canonicalCard(card: string): string {
    return card.trim().toUpperCase();
  }

  // For `patronym check`: a signed call that needs no patron (the API
  // version), so a wrong key or clock shows before any patron signs in.
  async check(): Promise<string> {
    const label = 'GET api';
    try {
      const answer = await this.#papi('GET', '/api', label);
      const version =
        typeof (answer as { Version?: unknown }).Version === 'string' ? (answer as { Version: string }).Version : '?';
      return `polaris ${this.#client.origin}: access ID ${JSON.stringify(this.#options.accessId)} accepted, PAPI ${version}`;
    } catch (error) {
      if (error instanceof IlsUnavailable) throw new PatronymError('polaris_check_failed', error.message);
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.#client.close();
  }
}

// So the registry imports this backend in one line.
export { polarisOptionsSchema } from './options.ts';
