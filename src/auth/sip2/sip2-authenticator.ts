// `sip2` authenticator: checks card + PIN with a 63 patron information (or 23
// patron status) request and applies the decision rules of decide.ts.
// Never throws: an unreadable, slow or closed server is `unavailable`, with
// a cause naming the server and what went wrong.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { resolveSecret } from '../../config/load.ts';
import type { SecretRef } from '../../config/schema.ts';
import { describeError, PatronymError } from '../../errors.ts';
import { type Authenticator, type AuthResult, type Credentials, denied, unavailable } from '../authenticator.ts';
import { type Endpoint, type ExchangeSettings, Sip2Connection, Sip2Failure } from './connection.ts';
import { type DecisionRules, decide, rulesFrom } from './decide.ts';
import { echoNamesCard } from './echo.ts';
import { textEncodingWarning } from './encoding-hint.ts';
import { firstField, type Sip2Message, valueProblem } from './message.ts';
import type { Sip2Options, Sip2ServerOptions } from './options.ts';
import { Sip2Pool } from './pool.ts';
import {
  endSessionRequest,
  type PatronQuery,
  patronInformationRequest,
  patronStatusRequest,
  RESPONSE_TO,
  readAcsStatus,
  SUPPORTED_MESSAGES,
  scStatusRequest,
} from './requests.ts';
import { type Login, login, openSession, scStatus, withLoginHint } from './session.ts';

export interface Sip2Context {
  // Configuration warnings for the sysadmin: at start-up (plain TCP,
  // verification off) and when observed (keepAlive above the server's idle
  // timeout).
  warn?: (message: string) => void;
  now?: () => number;
  env?: NodeJS.ProcessEnv;
}

interface Server {
  endpoint: Endpoint;
  pool: Sip2Pool;
}

// Certificates arrive as PEM text from the configuration loader
// (src/auth/sip2/resources.ts); a path is still read, for direct use.
function readPem(path: string, where: string): Buffer | string {
  if (path.trimStart().startsWith('-----BEGIN')) return path;
  try {
    return readFileSync(path);
  } catch (error) {
    throw new PatronymError(
      'config_invalid',
      `sip2: cannot read ${where} "${path}" (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
}

function endpointOf(server: Sip2ServerOptions, id: string, warn: (m: string) => void): Endpoint {
  const label = `${server.host}:${server.port}`;
  if (!server.tls) {
    warn(
      `sip2: "${id}" talks to ${label} over plain TCP (allowInsecure): card numbers and PINs cross the network in clear`,
    );
    return { host: server.host, port: server.port, label };
  }
  const t = server.tls;
  if (!t.rejectUnauthorized)
    warn(`sip2: "${id}" does not verify the certificate of ${label} (tls.rejectUnauthorized false)`);
  const options: ConnectionOptions = { rejectUnauthorized: t.rejectUnauthorized };
  if (t.ca) options.ca = readPem(t.ca, 'tls.ca');
  if (t.cert) options.cert = readPem(t.cert, 'tls.cert');
  if (t.key) options.key = readPem(t.key, 'tls.key');
  // SNI cannot carry an address; Node then checks the certificate against it.
  const servername = t.servername ?? (isIP(server.host) ? undefined : server.host);
  if (servername) options.servername = servername;
  return { host: server.host, port: server.port, tls: options, label: `${label} (tls)` };
}

export class Sip2Authenticator implements Authenticator {
  readonly kind = 'sip2';
  readonly id: string;
  readonly #options: Sip2Options;
  readonly #settings: ExchangeSettings;
  readonly #rules: DecisionRules;
  readonly #login: Login | undefined;
  readonly #terminalPassword: string;
  readonly #servers: Server[];
  readonly #now: () => number;

  constructor(id: string, options: Sip2Options, context: Sip2Context = {}) {
    this.id = id;
    this.#options = options;
    this.#now = context.now ?? Date.now;
    const secret = (ref: SecretRef, key: string): string => {
      const value = resolveSecret(ref, `sip2: "${id}" ${key}`, context.env);
      const problem = valueProblem(value, options.encoding);
      if (problem)
        throw new PatronymError('config_invalid', `sip2: "${id}" ${key} cannot be sent over SIP2 (${problem})`);
      return value;
    };
    this.#terminalPassword =
      options.terminalPassword === undefined ? '' : secret(options.terminalPassword, 'terminalPassword');
    this.#login = options.login && {
      user: options.login.user,
      password: secret(options.login.password, 'login.password'),
      ...(options.login.location === undefined ? {} : { location: options.login.location }),
    };
    this.#rules = rulesFrom(options);
    this.#settings = {
      encoding: options.encoding,
      errorDetection: options.errorDetection,
      connectTimeoutMs: options.connectTimeout * 1000,
      timeoutMs: options.timeout * 1000,
      retries: options.retries,
    };
    const warn = context.warn ?? (() => {});
    const setup = { scStatus: options.scStatus, ...(this.#login ? { login: this.#login } : {}) };
    this.#servers = options.servers.map((server) => {
      const endpoint = endpointOf(server, id, warn);
      const pool = new Sip2Pool(
        endpoint,
        () => openSession(endpoint, this.#settings, setup),
        options.scStatus ? async (c) => void (await scStatus(c)) : undefined,
        {
          size: options.poolSize,
          keepAliveMs: options.keepAlive * 1000,
          acquireTimeoutMs: (options.connectTimeout + options.timeout) * 1000,
          clearLastReply: options.clearLastReply,
          warn,
          // A request in flight, its 99 and a retirement's wait for a late reply.
          drainMs: (options.connectTimeout + 4 * options.timeout) * 1000,
        },
      );
      return { endpoint, pool };
    });
  }

  async authenticate({ card, pin }: Credentials): Promise<AuthResult> {
    try {
      // Some servers accept an empty password for patrons without one.
      if (pin.trim() === '') return denied('bad-credentials', 'empty PIN');
      const cardProblem = valueProblem(card, this.#options.encoding);
      if (cardProblem) return denied('bad-credentials', `card cannot be sent over SIP2 (${cardProblem})`);
      const pinProblem = valueProblem(pin, this.#options.encoding);
      if (pinProblem) return denied('bad-credentials', `PIN cannot be sent over SIP2 (${pinProblem})`);

      const now = new Date(this.#now());
      const query: PatronQuery = {
        institution: this.#options.institution,
        card,
        pin,
        terminalPassword: this.#terminalPassword,
        language: this.#options.language,
        now,
      };
      const causes: string[] = [];
      for (const server of this.#servers) {
        try {
          const result = decide(await this.#ask(server, query), this.#rules, now, card);
          if (result.kind !== 'unavailable') return result;
          causes.push(`${result.cause} (${server.endpoint.label})`);
        } catch (error) {
          if (!(error instanceof Sip2Failure)) throw error;
          causes.push(error.message);
        }
      }
      return unavailable(causes.join('; '));
    } catch (error) {
      // A defect, not an outage we foresaw. Scrub the credentials from the
      // message in case some library put them there.
      const text = describeError(error).split(card).join('…').split(pin).join('…');
      return unavailable(`sip2: unexpected error: ${text}`);
    }
  }

  // One question to one server. A pooled connection the server closed while
  // idle fails on first use; that request is retried on another connection.
  async #ask(server: Server, query: PatronQuery): Promise<Sip2Message> {
    const request = this.#options.message === '63' ? patronInformationRequest(query) : patronStatusRequest(query);
    const expect = RESPONSE_TO[request.code] ?? '';
    for (let attempt = 0; ; attempt++) {
      let reused = false;
      try {
        return await server.pool.use(async (connection, wasReused) => {
          reused = wasReused;
          const reply = await connection.exchange(request, expect);
          const aa = firstField(reply, 'AA');
          if (this.#options.verifyPatronId && (aa === undefined || !echoNamesCard(aa, query.card))) {
            // BL=N signs nobody in, whoever it is about: "unknown card",
            // not an outage, for a card the server could not echo. Without
            // sequence numbers it may be a stray reply: keep the answer
            // but not the connection.
            if (firstField(reply, 'BL')?.trim().toUpperCase() === 'N') {
              if (!this.#options.errorDetection) connection.discard('reply names another card (no sequence numbers)');
              return reply;
            }
            // A reply about another card answers another request (a late
            // reply, or a 97 re-send of someone else's record): drop the
            // connection rather than sign anybody in with it.
            const what = `reply to ${request.code} names another patron (AA differs from the card sent, even with case, accents and width folded; BL=Y, so nobody was signed in)`;
            connection.discard(what);
            throw new Sip2Failure('protocol', connection.endpoint, what);
          }
          if (this.#options.endSession) {
            // The answer is in; a failed 35 only costs this connection.
            await connection.exchange(endSessionRequest(query), '36').catch(() => {});
          }
          return reply;
        });
      } catch (error) {
        const stale = reused && error instanceof Sip2Failure && error.kind === 'closed';
        if (!stale || attempt >= this.#options.poolSize) throw error;
      }
    }
  }

  // For `patronym check`: logs in and sends 99 to every server on a fresh
  // connection; one line per server, or a PatronymError naming each failure.
  // ILSs behind SIP2 (Koha, Evergreen, Polaris…) look barcodes up ignoring
  // case and surrounding blanks, and an ASCII SIP account strips accents
  // (docs/sip2.md): one throttling counter for all those spellings. Folding
  // more than the ILS does only merges counters, never splits one.
  canonicalCard(card: string): string {
    return card.normalize('NFD').replace(/\p{M}/gu, '').trim().toUpperCase();
  }

  async check(): Promise<string> {
    const lines: string[] = [];
    const failures: string[] = [];
    for (const { endpoint } of this.#servers) {
      let connection: Sip2Connection | undefined;
      try {
        connection = await Sip2Connection.open(endpoint, this.#settings);
        if (this.#login) await login(connection, this.#login);
        const status = readAcsStatus(await connection.exchange(scStatusRequest(), '98'));
        lines.push(this.#summary(endpoint, status));
        if (!status.online) failures.push(`sip2: ${endpoint.label} reports it is off-line (98)`);
      } catch (error) {
        const named = withLoginHint(error, this.#login, endpoint);
        failures.push(named instanceof Sip2Failure ? named.message : `sip2: ${endpoint.label} ${describeError(error)}`);
      } finally {
        await connection?.retire();
      }
    }
    if (failures.length > 0) throw new PatronymError('sip2_check_failed', failures.join('; '));
    return lines.join('\n');
  }

  #summary(endpoint: Endpoint, status: ReturnType<typeof readAcsStatus>): string {
    const parts = [
      `sip2 ${endpoint.label}: ${status.online ? 'on-line' : 'off-line'}`,
      `protocol ${status.protocol || '?'}`,
    ];
    if (status.institution !== undefined) parts.push(`institution ${JSON.stringify(status.institution)}`);
    if (status.library) parts.push(`library ${JSON.stringify(status.library)}`);
    if (this.#login) parts.push(`login as ${JSON.stringify(this.#login.user)} accepted`);
    if (status.supported) {
      parts.push(`supports ${status.supported.join(', ') || 'nothing'}`);
      const needed = this.#options.message === '63' ? SUPPORTED_MESSAGES[7] : SUPPORTED_MESSAGES[0];
      if (!status.supported.includes(needed))
        parts.push(`warning: "${needed}" (message ${this.#options.message}) not listed as supported`);
    }
    const encoding = textEncodingWarning(`${status.institution ?? ''}${status.library ?? ''}`, this.#options.encoding);
    if (encoding) parts.push(`warning: encoding ${this.#options.encoding} but the server sent ${encoding}`);
    if (this.#options.keepAlive > 0)
      parts.push(`keep-alive every ${this.#options.keepAlive} s (must stay below the server's idle timeout)`);
    return parts.join(', ');
  }

  async close(): Promise<void> {
    await Promise.all(this.#servers.map((s) => s.pool.close()));
  }
}

// So the registry imports this backend in one line.
export { sip2OptionsSchema } from './options.ts';
