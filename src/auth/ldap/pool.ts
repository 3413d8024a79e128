// Where connections come from and how they are kept.
// - Connector: opens a connection on the first server that answers, in the
//   configured order (failover); a server that just failed is skipped for a
//   short while, unless every server has.
// - SharedConnection: the service account's one connection, opened once,
//   shared by concurrent logins (LDAP multiplexes operations, RFC 4511
//   section 4.1.1), re-opened when it dies (e.g. the server restarted).
// - BindPool: connections for patron binds, one login at a time each,
//   because a bind changes who the connection is.
import { LdapConnection, LdapTransportError, type Target } from './connection.ts';

const HOLD_OFF_MS = 10_000;

export class Connector {
  readonly #targets: readonly Target[];
  readonly #downUntil = new Map<string, number>();
  readonly #now: () => number;
  // Connections opened so far (tests check reuse with it).
  opened = 0;

  constructor(targets: readonly Target[], now: () => number = Date.now) {
    this.#targets = targets;
    this.#now = now;
  }

  get targets(): readonly Target[] {
    return this.#targets;
  }

  // `setup` runs on the fresh connection (the service bind); if it fails, so
  // has that server.
  async open(setup?: (c: LdapConnection) => Promise<void>): Promise<LdapConnection> {
    const now = this.#now();
    const up = this.#targets.filter((t) => (this.#downUntil.get(t.server) ?? 0) <= now);
    const order = up.length > 0 ? up : this.#targets;
    const causes: string[] = [];
    for (const target of order) {
      try {
        const connection = await openOne(target, setup);
        this.opened += 1;
        this.#downUntil.delete(target.server);
        return connection;
      } catch (error) {
        this.#downUntil.set(target.server, this.#now() + HOLD_OFF_MS);
        causes.push(error instanceof Error ? error.message : String(error));
      }
    }
    throw new LdapTransportError('', causes.join('; '));
  }
}

export async function openOne(target: Target, setup?: (c: LdapConnection) => Promise<void>): Promise<LdapConnection> {
  const connection = await LdapConnection.open(target);
  try {
    await setup?.(connection);
  } catch (error) {
    connection.destroy();
    throw error;
  }
  return connection;
}

// Runs `fn`; when a reused connection turns out to be dead (the server
// restarted since it was last used), runs it once more on a fresh one.
async function withRetry<T>(
  get: () => Promise<{ connection: LdapConnection; reused: boolean }>,
  fn: (c: LdapConnection) => Promise<T>,
  done: (c: LdapConnection) => void,
): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    const { connection, reused } = await get();
    try {
      return await fn(connection);
    } catch (error) {
      if (!(error instanceof LdapTransportError) || !reused || attempt > 0 || connection.alive) throw error;
    } finally {
      done(connection);
    }
  }
}

export class SharedConnection {
  readonly #open: () => Promise<LdapConnection>;
  #current: Promise<LdapConnection> | undefined;
  #closed = false;

  constructor(open: () => Promise<LdapConnection>) {
    this.#open = open;
  }

  async #get(): Promise<{ connection: LdapConnection; reused: boolean }> {
    if (this.#closed) throw new LdapTransportError('', 'authenticator closed');
    const current = this.#current;
    if (current) {
      const connection = await current.catch(() => undefined);
      if (connection?.alive) return { connection, reused: true };
      // Only the first caller to notice replaces it; the others share the new one.
      if (this.#current === current) this.#current = undefined;
    }
    if (!this.#current) {
      const opening = this.#open();
      this.#current = opening;
      opening.catch(() => {
        if (this.#current === opening) this.#current = undefined;
      });
    }
    return { connection: await this.#current, reused: false };
  }

  use<T>(fn: (c: LdapConnection) => Promise<T>): Promise<T> {
    return withRetry(
      () => this.#get(),
      fn,
      () => {},
    );
  }

  async close(): Promise<void> {
    this.#closed = true;
    const current = this.#current;
    this.#current = undefined;
    (await current?.catch(() => undefined))?.destroy();
  }
}

export class BindPool {
  readonly #open: () => Promise<LdapConnection>;
  readonly #max: number;
  readonly #idle: LdapConnection[] = [];
  readonly #waiting: (() => void)[] = [];
  #inUse = 0;
  #closed = false;

  constructor(open: () => Promise<LdapConnection>, max: number) {
    this.#open = open;
    this.#max = max;
  }

  async #acquire(): Promise<void> {
    if (this.#inUse < this.#max) {
      this.#inUse += 1;
      return;
    }
    // The slot is handed over by #release, so #inUse stays counted.
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  #release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#inUse -= 1;
  }

  async #get(): Promise<{ connection: LdapConnection; reused: boolean }> {
    if (this.#closed) throw new LdapTransportError('', 'authenticator closed');
    for (let c = this.#idle.pop(); c; c = this.#idle.pop()) {
      if (c.alive) return { connection: c, reused: true };
    }
    return { connection: await this.#open(), reused: false };
  }

  async use<T>(fn: (c: LdapConnection) => Promise<T>): Promise<T> {
    await this.#acquire();
    try {
      return await withRetry(
        () => this.#get(),
        fn,
        (c) => {
          if (c.alive && !this.#closed) this.#idle.push(c);
          else c.destroy();
        },
      );
    } finally {
      this.#release();
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const c of this.#idle.splice(0)) c.destroy();
  }
}
