// A small pool of persistent connections to one SIP2 server. Each connection
// carries one request at a time (SIP2 has no request ids); requests beyond
// the pool's size wait for a free connection. A connection that failed, or
// that the server closed, is dropped and replaced on demand.
//
// A connection goes back to the pool only after a 99 has replaced a patron
// reply as the server's last one (`clearLastReply`), and leaves it only
// through `retire()`: see connection.ts and docs/sip2.md.
import { type Endpoint, type Sip2Connection, Sip2Failure } from './connection.ts';

export interface PoolSettings {
  size: number;
  // An idle connection is pinged (or, without `ping`, closed) after this
  // long, so servers that drop idle sessions do not leave dead ones here.
  // 0: never.
  keepAliveMs: number;
  // How long a request waits for a busy pool.
  acquireTimeoutMs: number;
  // Send a 99 after each patron request before the connection rests.
  clearLastReply: boolean;
  // How long `close()` waits for requests in flight and retirements.
  drainMs: number;
  // Told once when the server closes idle connections before the
  // keep-alive: keepAlive is above the server's idle timeout.
  warn?: (message: string) => void;
}

type Waiter = { resolve: (connection: Sip2Connection | undefined) => void; reject: (error: unknown) => void };

export class Sip2Pool {
  readonly #endpoint: Endpoint;
  readonly #open: () => Promise<Sip2Connection>;
  readonly #ping: ((connection: Sip2Connection) => Promise<void>) | undefined;
  readonly #settings: PoolSettings;
  readonly #all = new Set<Sip2Connection>();
  readonly #idle: Sip2Connection[] = [];
  readonly #timers = new Map<Sip2Connection, NodeJS.Timeout>();
  readonly #idleSince = new Map<Sip2Connection, number>();
  #warnedIdle = false;
  readonly #waiters: Waiter[] = [];
  #opening = 0;
  #closed = false;
  readonly #retiring = new Set<Promise<void>>();
  #drained: (() => void) | undefined;
  // Why the last connection attempt failed, while no connection is open:
  // the server is probably down. Then one request at a time tries it and
  // the others fail at once (and move on to the next server) instead of
  // each waiting out the connect timeout.
  #failing: unknown;

  constructor(
    endpoint: Endpoint,
    open: () => Promise<Sip2Connection>,
    ping: ((connection: Sip2Connection) => Promise<void>) | undefined,
    settings: PoolSettings,
  ) {
    this.#endpoint = endpoint;
    this.#open = open;
    this.#ping = ping;
    this.#settings = settings;
  }

  // Open connections (busy, idle or being opened).
  get size(): number {
    return this.#all.size + this.#opening;
  }

  // Runs `use` on a connection of its own; `reused` tells whether that
  // connection had served earlier requests (and so may have been closed by
  // the server in the meantime).
  async use<T>(use: (connection: Sip2Connection, reused: boolean) => Promise<T>): Promise<T> {
    const { connection, reused } = await this.#acquire();
    try {
      return await use(connection, reused);
    } finally {
      this.#release(connection);
    }
  }

  // Retires idle connections now and busy ones when their request is over,
  // and waits (bounded) for all of them: the process may exit next.
  async close(): Promise<void> {
    this.#closed = true;
    for (const waiter of this.#waiters.splice(0))
      waiter.reject(new Sip2Failure('closed', this.#endpoint, 'authenticator closed'));
    for (const connection of [...this.#idle]) this.#drop(connection);
    const bound = (until: Promise<unknown>) => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise((resolve) => {
        timer = setTimeout(resolve, this.#settings.drainMs);
      });
      return Promise.race([until, late]).finally(() => clearTimeout(timer));
    };
    if (this.size > 0) {
      await bound(
        new Promise<void>((resolve) => {
          this.#drained = resolve;
        }),
      );
    }
    await bound(Promise.all(this.#retiring));
    // Past the bound: end what is left at once.
    for (const connection of [...this.#all]) connection.destroy();
  }

  async #acquire(): Promise<{ connection: Sip2Connection; reused: boolean }> {
    for (;;) {
      if (this.#closed) throw new Sip2Failure('closed', this.#endpoint, 'authenticator closed');
      const idle = this.#idle.pop();
      if (idle) {
        this.#clearTimer(idle);
        if (idle.usable) return { connection: idle, reused: true };
        this.#drop(idle);
        continue;
      }
      if (this.#failing !== undefined && this.#all.size === 0 && this.#opening > 0) throw this.#notAsked();
      if (this.size < this.#settings.size) return { connection: await this.#openOne(), reused: false };
      const handed = await this.#wait();
      if (handed) return { connection: handed, reused: true };
      // A slot was freed: loop and open a connection of our own.
    }
  }

  async #openOne(): Promise<Sip2Connection> {
    this.#opening += 1;
    let connection: Sip2Connection;
    try {
      connection = await this.#open();
    } catch (error) {
      this.#opening -= 1;
      this.#checkDrained();
      if (this.#all.size === 0) {
        this.#failing = error;
        for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
      } else {
        this.#wakeOne(undefined);
      }
      throw error;
    }
    this.#opening -= 1;
    this.#failing = undefined;
    if (this.#closed) {
      connection.destroy();
      this.#checkDrained();
      throw new Sip2Failure('closed', this.#endpoint, 'authenticator closed');
    }
    this.#all.add(connection);
    connection.onClose = (why) => {
      if (why.kind === 'closed' && this.#idle.includes(connection)) this.#closedWhileIdle(connection);
      this.#drop(connection);
    };
    return connection;
  }

  // Fails fast, saying so: the log must not claim a wait that never was.
  #notAsked(): Sip2Failure {
    const last = this.#failing;
    const why = last instanceof Sip2Failure ? last.what : String(last);
    return new Sip2Failure(
      last instanceof Sip2Failure ? last.kind : 'connect',
      this.#endpoint,
      `not asked: the last attempt failed (${why}) and a new one is under way`,
    );
  }

  #wait(): Promise<Sip2Connection | undefined> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve: (c) => {
          clearTimeout(timer);
          resolve(c);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        const s = Number((this.#settings.acquireTimeoutMs / 1000).toFixed(3));
        reject(
          new Sip2Failure(
            'timeout',
            this.#endpoint,
            `no free connection within ${s} s (all ${this.#settings.size} busy)`,
          ),
        );
      }, this.#settings.acquireTimeoutMs);
      this.#waiters.push(waiter);
    });
  }

  #wakeOne(connection: Sip2Connection | undefined): boolean {
    const waiter = this.#waiters.shift();
    waiter?.resolve(connection);
    return waiter !== undefined;
  }

  #release(connection: Sip2Connection): void {
    if (!connection.usable || this.#closed) {
      this.#drop(connection);
      return;
    }
    // Handed straight to a waiting request, the connection is not at rest:
    // the next patron reply replaces this one, and the 99 waits until the
    // connection goes idle (or is retired).
    if (this.#wakeOne(connection)) return;
    if (this.#settings.clearLastReply && connection.holdsPatronReply) {
      // After the patron has the answer: the 99 costs them no time.
      connection.settle().then(
        () => this.#release(connection),
        () => this.#drop(connection),
      );
      return;
    }
    this.#idle.push(connection);
    this.#idleSince.set(connection, Date.now());
    if (this.#settings.keepAliveMs > 0) {
      const timer = setTimeout(() => this.#keepAlive(connection), this.#settings.keepAliveMs);
      timer.unref();
      this.#timers.set(connection, timer);
    }
  }

  #keepAlive(connection: Sip2Connection): void {
    this.#timers.delete(connection);
    const at = this.#idle.indexOf(connection);
    if (at === -1) return;
    this.#idle.splice(at, 1);
    if (!this.#ping) {
      this.#drop(connection);
      return;
    }
    this.#ping(connection).then(
      () => this.#release(connection),
      () => this.#drop(connection),
    );
  }

  // Observed, not configured: how long the server lets a connection idle.
  #closedWhileIdle(connection: Sip2Connection): void {
    const since = this.#idleSince.get(connection);
    if (since === undefined || this.#warnedIdle || this.#settings.keepAliveMs === 0) return;
    this.#warnedIdle = true;
    const idle = Number(((Date.now() - since) / 1000).toFixed(1));
    this.#settings.warn?.(
      `sip2: ${this.#endpoint.label} closed a connection idle for ${idle} s, before the keep-alive (keepAlive ${this.#settings.keepAliveMs / 1000} s): set keepAlive below the server's idle timeout`,
    );
  }

  #clearTimer(connection: Sip2Connection): void {
    this.#idleSince.delete(connection);
    clearTimeout(this.#timers.get(connection));
    this.#timers.delete(connection);
  }

  #drop(connection: Sip2Connection): void {
    this.#clearTimer(connection);
    const at = this.#idle.indexOf(connection);
    if (at !== -1) this.#idle.splice(at, 1);
    connection.onClose = undefined;
    const retired = connection.retire();
    this.#retiring.add(retired);
    void retired.then(() => this.#retiring.delete(retired));
    if (this.#all.delete(connection)) this.#wakeOne(undefined);
    this.#checkDrained();
  }

  #checkDrained(): void {
    if (this.#closed && this.size === 0) this.#drained?.();
  }
}
