// The listening broker, and its reload: SIGHUP re-reads and validates the
// configuration and, if it is good, swaps in a broker built from it. Keys
// and the store stay, so sessions, grants and tokens survive; a bad file
// changes nothing but a log line.
import { createServer, type Server } from 'node:http';
import { type Broker, createBroker } from './app.ts';
import { authenticatorKinds } from './auth/registry.ts';
import type { Config } from './config/config.ts';
import { ConfigError, parseConfig } from './config/load.ts';
import { readYamlOffThread } from './config/read-yaml.ts';
import { describeError, PatronymError } from './errors.ts';
import type { ReadinessOptions } from './health.ts';
import { libraryCounts } from './libraries/library.ts';
import type { Logger } from './log.ts';
import { createMetrics } from './metrics.ts';
import type { Keys } from './security/keys.ts';
import type { Store } from './store/store.ts';

export interface BrokerServer {
  server: Server;
  current(): { config: Config; broker: Broker };
  // Resolves true when the new configuration is in force.
  reload(): Promise<boolean>;
  close(): Promise<void>;
}

export interface ServerDeps {
  configPath: string;
  config: Config;
  keys: Keys;
  store: Store;
  log: Logger;
  env?: NodeJS.ProcessEnv;
  // How long a replaced broker keeps its backend connections for requests
  // still in flight.
  drainMs?: number;
  now?: () => number;
  throttleDelayStepMs?: number;
  // Re-reads keys/ (after `patronym keys rotate|retire`).
  loadKeys?: () => Promise<Keys>;
  // Tests shorten the readiness checks (health.ts).
  readiness?: ReadinessOptions;
}

// Settings a reload cannot change without a restart: the issuer (discovery
// and every vendor's `iss` check; realm scopes default to its host), the
// listening socket, the store and the keys in use. A reload keeps their
// running values and warns about each one the file changed.
const RESTART_ONLY = ['issuer', 'port', 'host', 'store', 'keys', 'workers'] as const;

export function createBrokerServer(deps: ServerDeps): BrokerServer {
  const { store, log } = deps;
  let keys = deps.keys;
  const metrics = createMetrics();
  let config = deps.config;
  const build = (c: Config, k: Keys) =>
    createBroker({
      config: c,
      keys: k,
      store,
      log,
      metrics,
      ...(deps.now ? { now: deps.now } : {}),
      ...(deps.throttleDelayStepMs !== undefined ? { throttleDelayStepMs: deps.throttleDelayStepMs } : {}),
      ...(deps.readiness ? { readiness: deps.readiness } : {}),
    });
  let broker = build(config, keys);
  let handler = broker.app.callback();
  // Requests each broker is answering. A broker replaced by a reload closes
  // as soon as its last request is answered (at the latest after drainMs),
  // so a run of reloads keeps no old configuration, with its authenticators
  // and its thousand libraries, alive for long.
  const inflight = new Map<Broker, number>();
  const retiring = new Map<Broker, NodeJS.Timeout>();
  const retire = (old: Broker) => {
    clearTimeout(retiring.get(old));
    retiring.delete(old);
    inflight.delete(old);
    old.close().catch(() => {});
  };
  const server = createServer((req, res) => {
    const serving = broker;
    inflight.set(serving, (inflight.get(serving) ?? 0) + 1);
    res.once('close', () => {
      const left = (inflight.get(serving) ?? 1) - 1;
      inflight.set(serving, left);
      if (left === 0 && retiring.has(serving)) retire(serving);
    });
    handler(req, res);
  });
  server.headersTimeout = 20_000;
  server.requestTimeout = 30_000;
  // Node's own 5 s is below the idle timeout of a proxy's kept-alive
  // connections (nginx's 60 s): the proxy would send a request on a
  // connection just as the broker closes it. The broker closes idle ones
  // at a graceful stop anyway (close() below).
  const keepAlive = (c: Config) => {
    server.keepAliveTimeout = c.keepAliveTimeout * 1000;
  };
  keepAlive(config);

  return {
    server,
    current: () => ({ config, broker }),
    async reload() {
      let next: Config;
      let nextBroker: Broker;
      let nextKeys = keys;
      let ignored: string[];
      try {
        const read = await readYamlOffThread(deps.configPath);
        if (!read.ok) throw new ConfigError(deps.configPath, read.problems);
        const env = deps.env ?? process.env;
        const file = parseConfig(read.value, deps.configPath, { kinds: authenticatorKinds, env });
        ignored = RESTART_ONLY.filter((key) => JSON.stringify(file[key]) !== JSON.stringify(config[key]));
        // Parsed again as if the running issuer and port were set in the
        // environment, so what defaults from them (realm scopes) stays too.
        const kept = { ...env, ISSUER: config.issuer, PORT: String(config.port) };
        const parsed = parseConfig(read.value, deps.configPath, { kinds: authenticatorKinds, env: kept });
        next = { ...parsed, host: config.host, store: config.store, keys: config.keys };
        if (deps.loadKeys) {
          nextKeys = await deps.loadKeys();
          // Signing and cookie keys may change; these never may (every
          // pseudonym and every PIN hash depends on them).
          for (const name of ['accountKey', 'pairwiseKey', 'pinPepper'] as const) {
            if (!nextKeys[name].equals(keys[name])) {
              throw new PatronymError(
                'keys_changed',
                `keys: ${name} differs from the running one; refusing (it would change every pseudonym or PIN check)`,
              );
            }
          }
        }
        nextBroker = build(next, nextKeys);
      } catch (error) {
        log.error(
          { event: 'reload', outcome: 'refused', error: describeError(error) },
          'config: reload refused, the running configuration stays',
        );
        return false;
      }
      for (const key of ignored) {
        log.warn(
          { event: 'reload', ignored: key },
          `config: ${key} changed in the file; ignored until the next restart`,
        );
      }
      const old = broker;
      broker = nextBroker;
      keys = nextKeys;
      config = next;
      keepAlive(config);
      handler = broker.app.callback();
      if ((inflight.get(old) ?? 0) === 0) retire(old);
      else {
        const timer = setTimeout(() => retire(old), deps.drainMs ?? 30_000);
        timer.unref();
        retiring.set(old, timer);
      }
      // Counts, not ids: a consortium's thousand ids made one 19 kB line.
      log.info({ event: 'reload', outcome: 'ok', ...libraryCounts(broker.libraries) }, 'config: reloaded');
      return true;
    },
    // Graceful: /readyz answers 503 from now on, the socket stops accepting,
    // requests in flight finish (kept-alive connections close after their
    // response), then the backends' connections close. A patron half-way
    // through a sign-in continues on another instance: it is all in the store.
    async close() {
      broker.readiness.drain();
      // A kept-alive connection goes as soon as its last answer is sent,
      // rather than when the client's keep-alive runs out.
      const idle = setInterval(() => server.closeIdleConnections(), 100);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      clearInterval(idle);
      for (const old of [...retiring.keys()]) retire(old);
      await broker.close();
    },
  };
}
