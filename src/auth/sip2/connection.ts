// One TCP or TLS connection to a SIP2 server, carrying one request at a time:
// SIP2 has no request ids, so a reply is matched to its request only by
// order (and by the AY sequence number when error detection is on).
//
// Any failure ends the connection: after a timeout, a garbled reply or an
// unexpected one, the stream may be out of step, and a late reply to an old
// request must never be read as the answer to a new one.
import net, { type Socket } from 'node:net';
import tls from 'node:tls';
import type { Sip2Encoding } from './encoding.ts';
import { encodeMessage, Framer, parseMessage, type Sip2Message, type Sip2Request } from './message.ts';

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

export type FailureKind = 'connect' | 'tls' | 'timeout' | 'closed' | 'protocol' | 'login';

// Why a server could not answer. The message is for the sysadmin's log and
// never carries message content (which may hold a card or PIN).
export class Sip2Failure extends Error {
  readonly kind: FailureKind;
  constructor(kind: FailureKind, endpoint: Endpoint, what: string) {
    super(`sip2: ${endpoint.label} ${what}`);
    this.name = 'Sip2Failure';
    this.kind = kind;
  }
}

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
  // Called once when the connection ends, whoever ends it.
  onClose: (() => void) | undefined;

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
    socket.on('close', () =>
      this.#end(new Sip2Failure('closed', endpoint, `connection closed by the server${this.#why}`)),
    );
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
        fail(new Sip2Failure(kind, endpoint, what));
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
    return this.#closed === undefined;
  }

  // Sends `request` and returns the reply of type `expect`, answering 96
  // with a resend and a damaged reply with 97 (SIP2.md, "Framing"), both
  // bounded by `retries`.
  async exchange(request: Sip2Request, expect: string): Promise<Sip2Message> {
    if (this.#closed) throw this.#closed;
    if (this.#busy) throw new Error('sip2: connection used by two requests at once');
    this.#busy = true;
    const { encoding, errorDetection, retries } = this.#settings;
    try {
      const seq = this.#seq;
      this.#seq = (this.#seq + 1) % 10;
      const bytes = encodeMessage(request, { encoding, errorDetection, seq });
      this.#socket.write(bytes);
      let resends = 0;
      let damaged = 0;
      let stale = 0;
      for (;;) {
        const parsed = parseMessage(await this.#nextFrame(request.code), encoding);
        const unchecked = parsed.ok && errorDetection && !parsed.checksummed && parsed.message.code !== '96';
        if ((!parsed.ok && parsed.problem === 'checksum') || unchecked) {
          damaged += 1;
          if (damaged > retries) {
            throw this.#fail(
              unchecked
                ? `reply without checksum ${times(damaged)} (is error detection off on the server?)`
                : `reply checksum bad ${times(damaged)}`,
            );
          }
          // 97 only right after a damaged reply on this connection: a server
          // re-sends whatever it sent last (SIP2.md, Evergreen).
          this.#socket.write(encodeMessage({ code: '97', fixed: '', fields: [] }, { encoding, errorDetection }));
          continue;
        }
        if (!parsed.ok) throw this.#fail(`unreadable reply to ${request.code} (${parsed.detail})`);
        const reply = parsed.message;
        if (reply.code === '96') {
          resends += 1;
          if (resends > retries) throw this.#fail(`server asked ${times(resends)} to resend ${request.code}`);
          this.#socket.write(bytes);
          continue;
        }
        if (errorDetection && reply.seq !== undefined && reply.seq !== seq) {
          // A reply to an earlier message: skip it, the right one may follow.
          stale += 1;
          if (stale > retries + 1) throw this.#fail(`replies out of sequence (AY ${reply.seq}, expected ${seq})`);
          continue;
        }
        if (reply.code !== expect) throw this.#fail(`unexpected reply ${reply.code} to ${request.code}`);
        return reply;
      }
    } catch (error) {
      this.destroy();
      throw error;
    } finally {
      this.#busy = false;
      // Anything still queued came unasked: the stream is out of step.
      if (this.#frames.length > 0)
        this.#end(new Sip2Failure('protocol', this.endpoint, 'sent a message nobody asked for'));
    }
  }

  destroy(): void {
    this.#end(new Sip2Failure('closed', this.endpoint, 'connection closed by the broker'));
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
      return;
    }
    for (const frame of frames) {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      if (waiter) waiter.resolve(frame);
      else this.#frames.push(frame);
    }
    if (!this.#busy && this.#frames.length > 0) this.#end(this.#fail('sent a message nobody asked for'));
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

  #end(failure: Sip2Failure): void {
    if (this.#closed) return;
    this.#closed = failure;
    this.#socket.destroy();
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.reject(failure);
    this.onClose?.();
  }
}
