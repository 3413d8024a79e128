// One TCP or TLS connection to a SIP2 server, carrying one request at a time:
// SIP2 has no request ids, so a reply is matched to its request only by
// order (and by the AY sequence number when error detection is on).
//
// Any failure ends the connection: after a timeout, a garbled reply or an
// unexpected one, the stream may be out of step, and a late reply to an old
// request must never be read as the answer to a new one.
//
// The broker decides what the server's last reply is, and some servers keep
// it beyond the connection: Evergreen's SIPServer answers a 97 on any new,
// unauthenticated connection with the last reply of the worker process
// (issue 13). So a connection never ends, by the broker's doing, while the
// server's last reply is about a patron: `retire()` first exchanges a 99
// (harmless: a 98 names only the institution), after a failure even waiting
// for the late reply to pass (docs/sip2.md, "The server's last reply").
import net, { type Socket } from 'node:net';
import tls from 'node:tls';
import { PatronymError } from '../../errors.ts';
import type { Sip2Encoding } from './encoding.ts';
import { encodingHint } from './encoding-hint.ts';
import { encodeMessage, Framer, parseMessage, type Sip2Message, type Sip2Request } from './message.ts';
import { scStatusRequest } from './requests.ts';

export interface Endpoint {
  host: string;
  port: number;
  // Given: connect with TLS.
  tls?: tls.ConnectionOptions;
  // `host:port`, used in every message about this server.
  label: string;
}

export interface ExchangeSettings {
  encoding: Sip2Encoding;
  errorDetection: boolean;
  connectTimeoutMs: number;
  timeoutMs: number;
  // Bound on 96 resends and on 97 re-requests, each, per message.
  retries: number;
}

// `resend`: the server asked for a resend of a message it then closes the
// connection after (a 93): only a new connection can carry it again.
export type FailureKind = 'connect' | 'tls' | 'timeout' | 'closed' | 'protocol' | 'login' | 'resend';

// Why a server could not answer. The message is for the sysadmin's log and
// never carries message content (which may hold a card or PIN).
export class Sip2Failure extends PatronymError {
  readonly kind: FailureKind;
  // The message without "sip2: <server>", to quote in another one.
  readonly what: string;
  constructor(kind: FailureKind, endpoint: Endpoint, what: string, cause?: unknown) {
    super('sip2_failure', `sip2: ${endpoint.label} ${what}`, { cause });
    this.name = 'Sip2Failure';
    this.kind = kind;
    this.what = what;
  }
}

export interface ExchangeOptions {
  // Answer a 96 by resending on this connection (default); false for a 93,
  // after whose 96 Evergreen closes the connection.
  resendOn96?: boolean;
}

// Requests whose replies are about a patron (the 36 echoes the card).
const PATRON_REQUESTS = new Set(['23', '35', '63']);

const hinted = (hint: string | undefined): string => (hint ? ` (${hint})` : '');
const times = (n: number): string => (n === 1 ? 'once' : n === 2 ? 'twice' : `${n} times`);
const seconds = (ms: number): string => `${Number((ms / 1000).toFixed(3))} s`;

const TLS_TRUST = /CERT|SELF_SIGNED|UNABLE_TO_|ALTNAME|HOSTNAME|ISSUER|CHAIN|SIGNATURE/;

function describeSocketError(error: Error & { code?: string }): { kind: FailureKind; what: string } {
  const code = error.code ?? '';
  if (TLS_TRUST.test(code)) return { kind: 'tls', what: `tls: server certificate not accepted (${code})` };
  if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || /ssl|tls/i.test(error.message)) {
    return { kind: 'tls', what: `tls: handshake failed (${code || error.message})` };
  }
  if (code === 'ECONNREFUSED') return { kind: 'connect', what: 'connection refused' };
  return { kind: 'connect', what: `cannot connect (${code || error.message})` };
}

export class Sip2Connection {
  readonly endpoint: Endpoint;
  readonly #settings: ExchangeSettings;
  readonly #socket: Socket;
  readonly #framer = new Framer();
  readonly #frames: Buffer[] = [];
  #waiter: { resolve: (frame: Buffer) => void; reject: (error: Sip2Failure) => void } | undefined;
  #closed: Sip2Failure | undefined;
  // The socket error behind a close, e.g. a TLS alert, for the sysadmin.
  #why = '';
  #busy = false;
  #seq = 0;
  // The server's last reply on this connection may be about a patron.
  #holdsPatron = false;
  // The exchange in flight, settled either way.
  #current: Promise<unknown> = Promise.resolve();
  #retiring: Promise<void> | undefined;
  // Reads frames once the connection failed (see #scrub).
  #scrubWaiter: ((frame: Buffer | undefined) => void) | undefined;
  // Called once when the connection ends, whoever ends it.
  onClose: ((why: Sip2Failure) => void) | undefined;

  private constructor(socket: Socket, endpoint: Endpoint, settings: ExchangeSettings) {
    this.#socket = socket;
    this.endpoint = endpoint;
    this.#settings = settings;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (error: Error & { code?: string }) => {
      this.#why ||= ` (${error.code ?? error.message})`;
    });
    socket.on('close', () => {
      this.#end(new Sip2Failure('closed', endpoint, `connection closed by the server${this.#why}`));
      this.#scrubWaiter?.(undefined);
    });
  }

  static open(endpoint: Endpoint, settings: ExchangeSettings): Promise<Sip2Connection> {
    return new Promise((resolve, reject) => {
      const socket = endpoint.tls
        ? tls.connect({ ...endpoint.tls, host: endpoint.host, port: endpoint.port })
        : net.connect({ host: endpoint.host, port: endpoint.port });
      const fail = (failure: Sip2Failure) => {
        clearTimeout(timer);
        socket.destroy();
        reject(failure);
      };
      const timer = setTimeout(
        () => fail(new Sip2Failure('connect', endpoint, `no connection within ${seconds(settings.connectTimeoutMs)}`)),
        settings.connectTimeoutMs,
      );
      const onError = (error: Error) => {
        const { kind, what } = describeSocketError(error);
        fail(new Sip2Failure(kind, endpoint, what, error));
      };
      const onClose = () => fail(new Sip2Failure('connect', endpoint, 'connection closed during set-up'));
      socket.once('error', onError);
      socket.once('close', onClose);
      socket.once(endpoint.tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        socket.removeListener('error', onError);
        socket.removeListener('close', onClose);
        resolve(new Sip2Connection(socket, endpoint, settings));
      });
    });
  }

  get usable(): boolean {
    return this.#closed === undefined && this.#retiring === undefined;
  }

  // True while the server's last reply on this connection may be about a
  // patron, i.e. until a 99 (or 93) exchange has followed the patron request.
  get holdsPatronReply(): boolean {
    return this.#holdsPatron;
  }

  // Sends `request` and returns the reply of type `expect`, answering 96
  // with a resend and a damaged reply with 97 (SIP2.md, "Framing"), both
  // bounded by `retries`.
  exchange(request: Sip2Request, expect: string, options: ExchangeOptions = {}): Promise<Sip2Message> {
    if (this.#retiring) {
      return Promise.reject(new Sip2Failure('closed', this.endpoint, 'connection closed by the broker'));
    }
    const reply = this.#exchange(request, expect, options);
    this.#current = reply.catch(() => {});
    return reply;
  }

  // Leaves a harmless last reply (a 98) on the server, if the last one may
  // be about a patron.
  async settle(): Promise<void> {
    if (this.#holdsPatron) await this.exchange(scStatusRequest(), '98');
  }

  async #exchange(request: Sip2Request, expect: string, options: ExchangeOptions): Promise<Sip2Message> {
    if (this.#closed) throw this.#closed;
    if (this.#busy) throw new Error('sip2: connection used by two requests at once');
    this.#busy = true;
    const { encoding, errorDetection, retries } = this.#settings;
    try {
      const seq = this.#nextSeq();
      const bytes = encodeMessage(request, { encoding, errorDetection, seq });
      if (PATRON_REQUESTS.has(request.code)) this.#holdsPatron = true;
      this.#socket.write(bytes);
      let resends = 0;
      let damaged = 0;
      let stale = 0;
      // Right after a 97 the next reply is the re-sent one, whatever its AY:
      // Evergreen re-sends with AY0 (issue 13). The AA check, not the
      // sequence number, then guards which patron it is about.
      let resent = false;
      for (;;) {
        const frame = await this.#nextFrame(request.code);
        const parsed = parseMessage(frame, encoding);
        const unchecked = parsed.ok && errorDetection && !parsed.checksummed && parsed.message.code !== '96';
        if ((!parsed.ok && parsed.problem === 'checksum') || unchecked) {
          damaged += 1;
          if (damaged > retries) {
            throw this.#fail(
              unchecked
                ? `reply without checksum ${times(damaged)} (is error detection off on the server?)`
                : `reply checksum bad ${times(damaged)}${hinted(encodingHint(frame, encoding))}`,
            );
          }
          // 97 only right after a damaged reply on this connection: a server
          // re-sends whatever it sent last (SIP2.md, Evergreen).
          this.#socket.write(encodeMessage({ code: '97', fixed: '', fields: [] }, { encoding, errorDetection }));
          resent = true;
          continue;
        }
        if (!parsed.ok) throw this.#fail(`unreadable reply to ${request.code} (${parsed.detail})`);
        const reply = parsed.message;
        if (reply.code === '96') {
          if (options.resendOn96 === false) {
            throw new Sip2Failure('resend', this.endpoint, `server asked to resend ${request.code}`);
          }
          resends += 1;
          if (resends > retries) throw this.#fail(`server asked ${times(resends)} to resend ${request.code}`);
          this.#socket.write(bytes);
          resent = false;
          continue;
        }
        if (errorDetection && !resent && reply.seq !== undefined && reply.seq !== seq) {
          // A reply to an earlier message: skip it, the right one may follow.
          stale += 1;
          if (stale > retries + 1) throw this.#fail(`replies out of sequence (AY ${reply.seq}, expected ${seq})`);
          continue;
        }
        if (reply.code !== expect) throw this.#fail(`unexpected reply ${reply.code} to ${request.code}`);
        if (!PATRON_REQUESTS.has(request.code)) this.#holdsPatron = false;
        return reply;
      }
    } catch (error) {
      this.#end(error instanceof Sip2Failure ? error : this.#fail(`exchange failed (${String(error)})`), 'keep-socket');
      throw error;
    } finally {
      this.#busy = false;
      // Anything still queued came unasked: the stream is out of step.
      if (this.#frames.length > 0)
        this.#end(new Sip2Failure('protocol', this.endpoint, 'sent a message nobody asked for'), 'keep-socket');
    }
  }

  // Ends the connection at once. Only for connections that never carried a
  // patron request (set-up, check); others `retire()`.
  destroy(): void {
    this.#end(new Sip2Failure('closed', this.endpoint, 'connection closed by the broker'));
  }

  // Stops using the connection for `what` (e.g. a reply about another
  // patron) and retires it.
  discard(what: string): void {
    this.#end(this.#fail(what), 'keep-socket');
  }

  // Ends the connection once the exchange in flight (if any) is over,
  // leaving a 98 as the server's last reply where it may have been about a
  // patron. Never rejects; bounded by the reply timeouts.
  retire(): Promise<void> {
    this.#retiring ??= this.#retire();
    return this.#retiring;
  }

  async #retire(): Promise<void> {
    await this.#current;
    try {
      if (this.#holdsPatron && !this.#socket.destroyed) {
        if (this.#closed === undefined) await this.#exchange(scStatusRequest(), '98', {});
        else await this.#scrub();
      }
    } catch {
      // The server's problem now; the connection ends either way.
    } finally {
      this.#end(new Sip2Failure('closed', this.endpoint, 'connection closed by the broker'));
    }
  }

  // After a failure the stream may be out of step (a late reply still to
  // come): send a 99 and read, ignoring everything, until its 98 arrives or
  // twice the reply timeout passed.
  async #scrub(): Promise<void> {
    const { encoding, errorDetection, timeoutMs } = this.#settings;
    this.#socket.write(encodeMessage(scStatusRequest(), { encoding, errorDetection, seq: this.#nextSeq() }));
    const deadline = Date.now() + 2 * timeoutMs;
    for (;;) {
      const frame = this.#frames.shift() ?? (await this.#frameBefore(deadline));
      if (!frame) return;
      const parsed = parseMessage(frame, encoding);
      if (parsed.ok && parsed.message.code === '98') {
        this.#holdsPatron = false;
        return;
      }
    }
  }

  #frameBefore(deadline: number): Promise<Buffer | undefined> {
    if (this.#socket.destroyed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.#scrubWaiter?.(undefined), Math.max(0, deadline - Date.now()));
      this.#scrubWaiter = (frame) => {
        clearTimeout(timer);
        this.#scrubWaiter = undefined;
        resolve(frame);
      };
    });
  }

  #nextSeq(): number {
    const seq = this.#seq;
    this.#seq = (this.#seq + 1) % 10;
    return seq;
  }

  #fail(what: string): Sip2Failure {
    return new Sip2Failure('protocol', this.endpoint, what);
  }

  #onData(chunk: Buffer): void {
    let frames: Buffer[];
    try {
      frames = this.#framer.push(chunk);
    } catch {
      this.#end(this.#fail('sent more than 64 KiB without a CR'));
      this.#scrubWaiter?.(undefined);
      return;
    }
    for (const frame of frames) {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      if (this.#scrubWaiter) this.#scrubWaiter(frame);
      else if (waiter) waiter.resolve(frame);
      else this.#frames.push(frame);
    }
    if (!this.#busy && this.#closed === undefined && this.#frames.length > 0)
      this.#end(this.#fail('sent a message nobody asked for'), 'keep-socket');
  }

  #nextFrame(code: string): Promise<Buffer> {
    const queued = this.#frames.shift();
    if (queued) return Promise.resolve(queued);
    if (this.#closed) {
      const closed = this.#closed;
      return Promise.reject(
        closed.kind === 'closed'
          ? new Sip2Failure('closed', this.endpoint, `connection closed before the reply to ${code}${this.#why}`)
          : closed,
      );
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        reject(
          new Sip2Failure('timeout', this.endpoint, `no reply to ${code} within ${seconds(this.#settings.timeoutMs)}`),
        );
      }, this.#settings.timeoutMs);
      this.#waiter = {
        resolve: (frame) => {
          clearTimeout(timer);
          resolve(frame);
        },
        reject: (failure) => {
          clearTimeout(timer);
          reject(
            failure.kind === 'closed'
              ? new Sip2Failure('closed', this.endpoint, `connection closed before the reply to ${code}${this.#why}`)
              : failure,
          );
        },
      };
    });
  }

  // `keep-socket`: the broker stops using the connection but retires it,
  // so a reply about a patron is not left as the server's last one.
  #end(failure: Sip2Failure, socket: 'destroy' | 'keep-socket' = 'destroy'): void {
    if (socket === 'destroy') this.#socket.destroy();
    if (this.#closed) return;
    this.#closed = failure;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.reject(failure);
    if (socket === 'keep-socket') void this.retire();
    this.onClose?.(failure);
  }
}
