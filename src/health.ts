// Readiness for a load balancer (/readyz): the store answers and every
// library has at least one authenticator that answered recently. Probes
// come every few seconds from every balancer, so a probe only reads what a
// background round of checks last found: it never reaches a backend itself.
// The rounds start with the first probe (a broker nobody probes, as in
// tests and single-machine setups, asks its backends nothing extra), then
// run every `interval` ms, one check per authenticator with a time limit.
import type { Authenticator } from './auth/authenticator.ts';
import { describeError } from './errors.ts';
import type { Library } from './libraries/library.ts';
import type { Logger } from './log.ts';
import type { Store } from './store/store.ts';

export interface ReadinessOptions {
  // Between rounds of checks.
  interval?: number;
  // How long a successful answer counts as "recent".
  fresh?: number;
  // The longest one check may take before it counts as failed.
  timeout?: number;
  now?: () => number;
}

export interface ReadinessReport {
  ready: boolean;
  // Never checked yet (the first probe starts the checks).
  pending: boolean;
  store: boolean;
  // Library id → whether one of its authenticators answered recently.
  libraries: Record<string, boolean>;
}

const withTimeout = (promise: Promise<unknown>, ms: number, what: string): Promise<unknown> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });

export class Readiness {
  readonly #store: Store;
  readonly #libraries: ReadonlyMap<string, Library>;
  readonly #authenticators: readonly Authenticator[];
  readonly #log: Logger;
  readonly #interval: number;
  readonly #fresh: number;
  readonly #timeout: number;
  readonly #now: () => number;
  // Last time each one answered (authenticator id, or '' for the store).
  readonly #answered = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<void> | undefined;
  #draining = false;
  #closed = false;

  constructor(
    store: Store,
    libraries: ReadonlyMap<string, Library>,
    authenticators: readonly Authenticator[],
    log: Logger,
    options: ReadinessOptions = {},
  ) {
    this.#store = store;
    this.#libraries = libraries;
    this.#authenticators = authenticators;
    this.#log = log;
    this.#interval = options.interval ?? 10_000;
    this.#fresh = options.fresh ?? 60_000;
    this.#timeout = options.timeout ?? 5_000;
    this.#now = options.now ?? Date.now;
  }

  // What the last checks found; starts them on first use.
  report(): ReadinessReport {
    if (!this.#timer && !this.#closed) {
      this.#round = this.#check();
      this.#timer = setInterval(() => {
        this.#round = this.#check();
      }, this.#interval);
      this.#timer.unref();
    }
    const recent = (id: string) => (this.#answered.get(id) ?? -Infinity) > this.#now() - this.#fresh;
    const libraries: Record<string, boolean> = {};
    for (const [id, library] of this.#libraries) libraries[id] = library.chain.some((a) => recent(a.id));
    const store = recent('');
    const pending = this.#answered.size === 0;
    return {
      ready: !this.#draining && store && Object.values(libraries).every(Boolean),
      pending,
      store,
      libraries,
    };
  }

  // Resolves when the round of checks under way (if any) is done: the first
  // probe can wait for it instead of answering "not ready" to a broker that
  // has simply not looked yet.
  async settled(): Promise<void> {
    await this.#round;
  }

  // From SIGTERM on: not ready, so balancers send nothing new.
  drain(): void {
    this.#draining = true;
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
  }

  async #check(): Promise<void> {
    const checks: Array<{ id: string; run: () => Promise<unknown> }> = [
      { id: '', run: () => this.#store.find('Health', 'probe') },
      ...this.#authenticators.map((a) => ({ id: a.id, run: () => a.check?.() ?? Promise.resolve('no check') })),
    ];
    await Promise.all(
      checks.map(async ({ id, run }) => {
        try {
          await withTimeout(run(), this.#timeout, id || 'store');
          this.#answered.set(id, this.#now());
        } catch (error) {
          this.#log.warn(
            { event: 'readiness', component: id || 'store', error: describeError(error) },
            `health: ${id ? `authenticator "${id}"` : 'store'} did not answer`,
          );
        }
      }),
    );
  }
}
