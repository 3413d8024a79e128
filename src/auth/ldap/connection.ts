// One LDAP connection to one server: connect (TLS or StartTLS), bind,
// search, with a deadline on every step. A thin promise layer over ldapjs
// that turns its many error shapes into two: the server answered with a
// result code (a value), or the transport failed (LdapTransportError, whose
// message is the cause a sysadmin reads).
import type { EventEmitter } from 'node:events';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import ldap from 'ldapjs';
import { describeError, PatronymError } from '../../errors.ts';
import { type ResponseControl, watchBindResponses } from './bind-controls.ts';
import { encodeFilter, parseFilter } from './filter.ts';
import { resultName } from './result-codes.ts';

export interface Target {
  server: string; // ldap[s]://host:port, for logs
  secure: boolean;
  host: string;
  port: number;
  startTls: boolean;
  tls: TlsOptions;
  connectTimeoutMs: number;
  timeoutMs: number;
}

// The connection is unusable, or could not be made; the message is
// `<server> <reason>`, the cause a sysadmin reads.
export class LdapTransportError extends PatronymError {
  override readonly name = 'LdapTransportError';
  readonly server: string;
  readonly reason: string;
  constructor(server: string, reason: string, cause?: unknown) {
    super('ldap_transport', server === '' ? reason : `${server} ${reason}`, { cause });
    this.server = server;
    this.reason = reason;
  }
}

// The server answered an operation with a failure result code.
export class LdapResultError extends PatronymError {
  override readonly name = 'LdapResultError';
  readonly resultCode: number;
  constructor(resultCode: number, message: string, cause?: unknown) {
    super('ldap_result', message, { cause });
    this.resultCode = resultCode;
  }
}

export type BindResult = { ok: true } | { ok: false; code: number; message: string; ppolicyError?: number };

export interface Entry {
  dn: string;
  // Lower-cased attribute name → raw values.
  attributes: ReadonlyMap<string, readonly Buffer[]>;
}

// What we use of ldapjs 3's client. @types/ldapjs lags version 3 (no
// response controls, no SearchResultEntry buffers), so the client is typed
// here, narrowly, once.
interface RawAttribute {
  type: string;
  buffers: Buffer[];
}
interface RawEntry {
  objectName: { toString(): string } | null;
  attributes: RawAttribute[];
}
interface RawClient extends EventEmitter {
  bind(dn: string, password: string, controls: unknown[], cb: (err: Error | null) => void): void;
  search(base: object, options: object, controls: unknown[], cb: (err: Error | null, res: EventEmitter) => void): void;
  starttls(options: TlsOptions, controls: unknown[], cb: (err: Error | null) => void): void;
  destroy(err?: Error): void;
}

const PPOLICY_OID = '1.3.6.1.4.1.42.2.27.8.5.1';
// The request form of the control (draft-behera-ldap-password-policy-11
// section 6.1) has no value. Missing from @types/ldapjs, hence the cast.
const PasswordPolicyControl = (ldap as unknown as { PasswordPolicyControl: new () => object }).PasswordPolicyControl;
const TLS_CODE = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO|ALTNAME|HOSTNAME|EPROTO/;
const noop = () => {};

// A sysadmin-readable reason for a transport failure. Only Node's own error
// messages (which carry system codes, never our input) are quoted: ldapjs's
// can quote a DN or filter, which may hold a card.
function transportReason(error: unknown, phase: string, timeoutMs?: number): string {
  const err = error as { code?: unknown; name?: unknown; message?: unknown };
  const code = typeof err?.code === 'string' ? err.code : undefined;
  if (code === 'ECONNREFUSED') return 'connect refused (ECONNREFUSED)';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `host not found (${code})`;
  if (err?.name === 'ConnectionError' && /timeout/.test(String(err.message))) {
    return `connect timed out after ${(timeoutMs ?? 0) / 1000}s`;
  }
  if (err?.name === 'ConnectionError') return `connection closed during ${phase}`;
  if (code !== undefined && TLS_CODE.test(code)) return `tls failed: ${String(err.message)} (${code})`;
  if (code !== undefined) return `${phase} failed: ${describeError(error)}`;
  return `${phase} failed (${String(err?.name ?? 'error')})`;
}

// ldapjs parses DN strings and prints them back, losing escapes on the way
// (`uid=a\+b` comes back as `uid=a`). Its DN type check is a toStringTag,
// so a DN we already escaped, or read from the server, goes on the wire as
// written.
const rawDn = (dn: string): object => ({ [Symbol.toStringTag]: 'LdapDn', toString: () => dn });

// Likewise a filter, parsed and BER-encoded by ./filter.ts (see there why).
function encodedFilter(text: string): object {
  const buffer = encodeFilter(parseFilter(text));
  return { [Symbol.toStringTag]: 'FilterString', toBer: () => ({ buffer }), toString: () => text };
}

const isTransport = (e: unknown): boolean => {
  const name = (e as { name?: unknown })?.name;
  const code = (e as { code?: unknown })?.code;
  return name === 'ConnectionError' || name === 'TimeoutError' || typeof code !== 'number';
};

export class LdapConnection {
  readonly server: string;
  readonly #client: RawClient;
  readonly #timeoutMs: number;
  #alive = true;
  #lastBindControls: ResponseControl[] = [];

  private constructor(target: Target, client: RawClient) {
    this.server = target.server;
    this.#client = client;
    this.#timeoutMs = target.timeoutMs;
    const dead = () => this.#die();
    client.on('close', dead).on('end', dead).on('error', dead).on('socketTimeout', dead);
  }

  static async open(target: Target): Promise<LdapConnection> {
    // `as unknown as`: see RawClient.
    const client = ldap.createClient({
      url: target.server,
      connectTimeout: target.connectTimeoutMs,
      tlsOptions: target.tls,
      queueDisable: true,
    }) as unknown as RawClient;
    // ldapjs re-emits late socket errors; unhandled, they would crash the broker.
    client.on('error', noop);
    try {
      await deadline(
        new Promise<void>((resolve, reject) => {
          client.once('connect', () => resolve());
          client.once('connectError', reject);
          client.once('setupError', reject);
        }),
        target.connectTimeoutMs + 500,
        () => new Error('connection timeout'),
      );
    } catch (error) {
      client.destroy();
      const e =
        error instanceof Error && error.message === 'connection timeout'
          ? Object.assign(error, { name: 'ConnectionError' })
          : error;
      throw new LdapTransportError(target.server, transportReason(e, 'connect', target.connectTimeoutMs), error);
    }
    if (target.startTls) {
      try {
        await deadline(
          new Promise<void>((resolve, reject) =>
            client.starttls(target.tls, [], (err) => (err ? reject(err) : resolve())),
          ),
          target.connectTimeoutMs,
          () => Object.assign(new Error('starttls timeout'), { code: 'ETIMEDOUT' }),
        );
      } catch (error) {
        client.destroy();
        const code = (error as { code?: unknown }).code;
        // A server without StartTLS answers the extended operation with an LDAP error.
        const reason =
          typeof code === 'number'
            ? `starttls refused by the server: ${resultName(code)}`
            : code === 'ETIMEDOUT'
              ? `starttls timed out after ${target.connectTimeoutMs / 1000}s`
              : transportReason(error, 'starttls');
        throw new LdapTransportError(target.server, reason, error);
      }
    }
    const connection = new LdapConnection(target, client);
    try {
      // Bind connections carry one operation at a time, so "last" is "ours".
      watchBindResponses(client, (controls) => {
        connection.#lastBindControls = controls;
      });
    } catch (error) {
      client.destroy();
      throw error;
    }
    return connection;
  }

  get alive(): boolean {
    return this.#alive;
  }

  #die(): void {
    this.#alive = false;
  }

  destroy(): void {
    this.#die();
    this.#client.destroy();
  }

  async #op<T>(what: string, run: (settle: (err: Error | null, value?: T) => void) => void): Promise<T> {
    if (!this.#alive) throw new LdapTransportError(this.server, `connection closed before ${what}`);
    try {
      return await deadline(
        new Promise<T>((resolve, reject) => run((err, value) => (err ? reject(err) : resolve(value as T)))),
        this.#timeoutMs,
        () => new LdapTransportError(this.server, `${what} timed out after ${this.#timeoutMs / 1000}s`),
      );
    } catch (error) {
      if (error instanceof LdapTransportError) {
        // The server may still answer later; nothing on this socket can be trusted.
        this.destroy();
        throw error;
      }
      if (isTransport(error)) {
        this.destroy();
        throw new LdapTransportError(this.server, transportReason(error, what), error);
      }
      const e = error as { code: number; message?: string };
      throw new LdapResultError(e.code, String(e.message ?? ''), error);
    }
  }

  async bind(dn: string, password: string, options: { ppolicy?: boolean } = {}): Promise<BindResult> {
    this.#lastBindControls = [];
    const controls = options.ppolicy ? [new PasswordPolicyControl()] : [];
    try {
      await this.#op<void>('bind', (settle) => this.#client.bind(dn, password, controls, (err) => settle(err)));
      return { ok: true };
    } catch (error) {
      if (!(error instanceof LdapResultError)) throw error;
      const ppolicy = this.#lastBindControls?.find((c) => c.type === PPOLICY_OID);
      const result: BindResult = { ok: false, code: error.resultCode, message: error.message };
      if (ppolicy?.value?.error !== undefined) result.ppolicyError = ppolicy.value.error;
      return result;
    }
  }

  search(
    base: string,
    options: { scope: 'base' | 'one' | 'sub'; filter: string; attributes: readonly string[]; sizeLimit?: number },
  ): Promise<{ entries: Entry[]; truncated: boolean }> {
    const entries: Entry[] = [];
    let filter: object;
    try {
      filter = encodedFilter(options.filter);
    } catch {
      // filterError (RFC 4511 section 4.1.9); the text may hold a card, so it is not quoted.
      return Promise.reject(new LdapResultError(87, 'filter error'));
    }
    const request = {
      scope: options.scope,
      filter,
      attributes: [...options.attributes],
      sizeLimit: options.sizeLimit ?? 0,
      timeLimit: Math.max(1, Math.ceil(this.#timeoutMs / 1000)),
    };
    return this.#op('search', (settle) =>
      this.#client.search(rawDn(base), request, [], (err, res) => {
        if (err) return settle(err);
        res.on('searchEntry', (raw: RawEntry) => entries.push(toEntry(raw)));
        res.on('error', (e: Error & { code?: unknown }) =>
          // RFC 4511 4.5.2: sizeLimitExceeded (4) still delivers the entries found.
          e.code === 4 ? settle(null, { entries, truncated: true }) : settle(e),
        );
        res.on('end', () => settle(null, { entries, truncated: false }));
      }),
    );
  }
}

function toEntry(raw: RawEntry): Entry {
  const attributes = new Map<string, Buffer[]>();
  for (const a of raw.attributes) attributes.set(a.type.toLowerCase(), a.buffers);
  return { dn: raw.objectName?.toString() ?? '', attributes };
}

async function deadline<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(onTimeout()), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
