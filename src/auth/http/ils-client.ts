// The one HTTP client of the ILS REST authenticators: an undici pool per
// authenticator (a few kept-alive TLS connections instead of a handshake
// per sign-in), one deadline per request, bounded retries for idempotent
// lookups only (a PIN check is never sent twice: the ILS may count failed
// attempts), and every failure turned into an IlsUnavailable whose message
// names the API and the cause but never the card, PIN or patron. Request
// labels are templates ("GET /patrons/{id}"), never the URL actually sent.
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';
import { describeError, PatronymError } from '../../errors.ts';
import type { HttpOptions } from './options.ts';

// An ILS could answer with a huge page; a patron record fits in far less.
const BODY_LIMIT = 1024 * 1024;

export class IlsUnavailable extends PatronymError {
  override name = 'IlsUnavailable';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('ils_unavailable', message, options);
  }
}

export interface IlsRequest {
  method: 'GET' | 'POST';
  // Path and query, already escaped by the caller.
  path: string;
  // For messages: the request without patron data, e.g. "POST /patrons/validate".
  label: string;
  headers?: Record<string, string>;
  body?: string;
  // Safe to send again after a timeout, 5xx or reset (a lookup, not a PIN check).
  idempotent?: boolean;
}

export interface IlsResponse {
  status: number;
  contentType: string;
  // Set-Cookie headers (FOLIO sends its tokens as cookies).
  setCookie: string[];
  text: string;
}

const TLS_CODES = /CERT|SELF_SIGNED|TLS|SSL|UNABLE_TO_VERIFY|ALTNAME|EPROTO/;

function causeOf(error: unknown, timeoutS: number): string {
  const code = (error as { code?: unknown }).code;
  const name = (error as { name?: unknown }).name;
  if (name === 'TimeoutError' || (typeof code === 'string' && code.includes('TIMEOUT')))
    return `no answer within ${timeoutS} s`;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'connection reset';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host name not found';
  if (typeof code === 'string' && TLS_CODES.test(code)) return `TLS failed (${code})`;
  return describeError(error);
}

export class IlsClient {
  readonly origin: string;
  readonly #prefix: string;
  readonly #component: string;
  readonly #timeoutMs: number;
  readonly #retries: number;
  readonly #pool: Pool;

  constructor(component: string, options: HttpOptions) {
    this.#component = component;
    const url = new URL(options.baseUrl);
    this.origin = url.origin;
    // A base URL with a path (a proxy prefix, PAPI's /PAPIService/REST) keeps it.
    this.#prefix = url.pathname.replace(/\/+$/, '');
    this.#timeoutMs = options.timeout * 1000;
    this.#retries = options.retries;
    // PEM text from the configuration loader (resources.ts); a path is
    // still read, for direct use.
    let ca: Buffer | string | undefined;
    if (options.tls?.ca?.trimStart().startsWith('-----BEGIN')) ca = options.tls.ca;
    else if (options.tls?.ca) {
      try {
        ca = readFileSync(options.tls.ca);
      } catch (error) {
        throw new PatronymError(
          'config_invalid',
          `${component}: cannot read tls.ca "${options.tls.ca}" (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
        );
      }
    }
    this.#pool = new Pool(this.origin, {
      connections: options.poolSize,
      connect: {
        timeout: this.#timeoutMs,
        rejectUnauthorized: options.tls?.rejectUnauthorized ?? true,
        ...(ca ? { ca } : {}),
      },
      headersTimeout: this.#timeoutMs,
      bodyTimeout: this.#timeoutMs,
    });
  }

  // Where messages say a request went: the origin and the label.
  where(label: string): string {
    return `${this.#component}: ${this.origin} ${label}`;
  }

  async request(r: IlsRequest): Promise<IlsResponse> {
    const attempts = r.idempotent ? 1 + this.#retries : 1;
    let last = '';
    let lastError: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        const response = await this.#once(r);
        // 5xx: the ILS is in trouble. Only a lookup may ask again.
        if (response.status < 500) return response;
        last = `HTTP ${response.status}`;
      } catch (error) {
        last = causeOf(error, this.#timeoutMs / 1000);
        lastError = error;
      }
    }
    throw new IlsUnavailable(`${this.where(r.label)}: ${last}${attempts > 1 ? ` (${attempts} attempts)` : ''}`, {
      cause: lastError,
    });
  }

  async #once(r: IlsRequest): Promise<IlsResponse> {
    const response = await this.#pool.request({
      method: r.method,
      path: this.#prefix + r.path,
      headers: { accept: 'application/json', ...r.headers },
      ...(r.body === undefined ? {} : { body: r.body }),
      // headersTimeout and bodyTimeout count from when the request is sent
      // and between chunks; this caps the whole: a wait for a free pooled
      // connection in a burst (which is not the ILS failing), then the
      // answer, then a body trickling in.
      signal: AbortSignal.timeout(3 * this.#timeoutMs),
    });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body) {
      size += (chunk as Buffer).length;
      if (size > BODY_LIMIT) {
        response.body.destroy();
        throw new IlsUnavailable(`answer larger than ${BODY_LIMIT} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
    const type = response.headers['content-type'];
    const cookies = response.headers['set-cookie'];
    return {
      status: response.statusCode,
      contentType: (Array.isArray(type) ? type[0] : type) ?? '',
      setCookie: cookies === undefined ? [] : Array.isArray(cookies) ? cookies : [cookies],
      text: Buffer.concat(chunks).toString('utf8'),
    };
  }

  // The JSON body of an answer, or an outage: an HTML error page from a
  // proxy or a half-written body means the ILS did not answer the question.
  json(response: IlsResponse, label: string): unknown {
    const what = response.contentType.split(';')[0]?.trim() || 'no content type';
    if (response.text.trim() === '')
      throw new IlsUnavailable(`${this.where(label)}: HTTP ${response.status} with an empty body`);
    try {
      return JSON.parse(response.text);
    } catch {
      throw new IlsUnavailable(`${this.where(label)}: HTTP ${response.status} answer is not JSON (${what})`);
    }
  }

  // "HTTP 200 (text/html)": the status, and the content type when it is
  // not JSON (a proxy's or a login page's HTML says more than the status).
  status(response: IlsResponse): string {
    const type = response.contentType.split(';')[0]?.trim() ?? '';
    return type === '' || type.endsWith('json') ? `HTTP ${response.status}` : `HTTP ${response.status} (${type})`;
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }
}
