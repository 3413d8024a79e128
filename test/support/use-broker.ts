// One broker per describe block (or per test), started and stopped by the
// hooks this registers, instead of a start/stop block copied into each e2e
// file. The handle is a RunningBroker whose fields are read when a test runs,
// so `const b = useBroker(...)` reads like the broker itself, and helpers
// taking a RunningBroker accept it.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import type { ConfigInput } from '../../src/config/schema.ts';
import { freePort, type RunningBroker, removeDir, type StartOptions, startBroker } from './broker.ts';

// The folder and port the broker gets, known before it starts: configurations
// that name files in the folder, or the issuer's port, are built from them.
export interface BrokerPlace {
  dir: string;
  port: number;
}

export type BrokerOptions = StartOptions | ((place: BrokerPlace) => StartOptions | Promise<StartOptions>);

export interface UseBrokerSettings {
  // 'test': a fresh broker (and folder) for every test of the block.
  per?: 'block' | 'test';
}

export interface BrokerHandle extends RunningBroker {
  // The broker running now; throws when none is (before the hooks ran, after stop()).
  readonly current: RunningBroker;
  // Starts again in the same folder on the same port (the same issuer): a
  // restart. Overrides are merged over the options the block started with.
  start(overrides?: StartOptions): Promise<RunningBroker>;
  // stop() then start(): keys, store and patron file carry over.
  restart(overrides?: StartOptions): Promise<RunningBroker>;
}

class Fixture implements BrokerHandle {
  private running: RunningBroker | undefined;
  private place: BrokerPlace | undefined;
  private options: StartOptions = {};
  private readonly source: BrokerOptions;

  constructor(source: BrokerOptions) {
    this.source = source;
  }

  async setUp(): Promise<void> {
    // The folder exists before the options are computed, and before anything
    // can fail, so that tearDown always has it to remove.
    this.place = { dir: mkdtempSync(join(tmpdir(), 'patronym-broker-')), port: await freePort() };
    this.options = typeof this.source === 'function' ? await this.source(this.place) : this.source;
    await this.start();
  }

  async tearDown(): Promise<void> {
    try {
      await this.stop();
    } finally {
      // Only the folder made here: a broker started in another's folder
      // (options.dir) leaves it to its owner.
      if (this.place) removeDir(this.place.dir);
      this.place = undefined;
    }
  }

  async start(overrides: StartOptions = {}): Promise<RunningBroker> {
    if (this.running) throw new Error('useBroker: start() while a broker is running; stop() it first');
    const place = this.where('start()');
    this.options = { ...this.options, ...overrides };
    this.running = await startBroker({ dir: place.dir, port: place.port, ...this.options });
    // A later start() keeps the folder and port the broker really used.
    this.place = { ...place, port: this.running.port };
    return this.running;
  }

  async stop(): Promise<void> {
    const running = this.running;
    this.running = undefined;
    await running?.stop();
  }

  async restart(overrides: StartOptions = {}): Promise<RunningBroker> {
    await this.stop();
    return this.start(overrides);
  }

  get current(): RunningBroker {
    if (this.running) return this.running;
    throw new Error(
      this.place
        ? 'useBroker: the broker is stopped; start() it again before using it'
        : 'useBroker: no broker yet: read it inside a test or a later hook, not while the describe block is collected',
    );
  }

  private where(what: string): BrokerPlace {
    if (this.place) return this.place;
    throw new Error(`useBroker: ${what} before the block's beforeAll ran (or after its afterAll)`);
  }

  // RunningBroker, read through to the broker running now. The folder and
  // port outlive a stop(), so a test can look at the files between runs.
  get dir(): string {
    return this.running?.dir ?? this.options.dir ?? this.where('dir').dir;
  }
  get port(): number {
    return this.running?.port ?? this.where('port').port;
  }
  get issuer(): string {
    return this.current.issuer;
  }
  get config() {
    return this.current.config;
  }
  get keys() {
    return this.current.keys;
  }
  get store() {
    return this.current.store;
  }
  get broker() {
    return this.current.broker;
  }
  get server() {
    return this.current.server;
  }
  get logs(): string[] {
    return this.current.logs;
  }
  get configPath(): string {
    return this.current.configPath;
  }
  writeConfig(config: Partial<ConfigInput> | string): void {
    this.current.writeConfig(config);
  }
  reload(): Promise<boolean> {
    return this.current.reload();
  }
}

// Registers the hooks in the calling describe block (or the file): the broker
// starts in beforeAll (beforeEach with per: 'test'), in the order hooks were
// registered, so fixtures registered before it (a directory server, a SIP2
// simulator) are up when the options function runs; it stops and its folder
// goes in afterAll whether the tests passed or not, before the fixtures
// registered before it stop (vitest runs after-hooks in reverse).
export function useBroker(options: BrokerOptions = {}, settings: UseBrokerSettings = {}): BrokerHandle {
  const fixture = new Fixture(options);
  const [before, after] = settings.per === 'test' ? [beforeEach, afterEach] : [beforeAll, afterAll];
  before(() => fixture.setUp());
  after(() => fixture.tearDown());
  return fixture;
}

// A broker for the length of one function, for a test that needs a second,
// differently configured one: stopped and its folder removed however fn ends.
export async function withBroker<T>(options: BrokerOptions, fn: (b: RunningBroker) => Promise<T>): Promise<T> {
  const fixture = new Fixture(options);
  try {
    await fixture.setUp();
    return await fn(fixture.current);
  } finally {
    await fixture.tearDown();
  }
}
