// Process entry: load the configuration, keys and store, listen, sweep
// expired records, reload on SIGHUP, shut down cleanly on SIGTERM/SIGINT.
import { authenticatorKinds } from './auth/registry.ts';
import { announceStart, runPrimary, sweepsStore, workerCount, workerLog, workerPeers } from './cluster.ts';
import type { Config } from './config/config.ts';
import { ConfigError, loadConfigFile } from './config/load.ts';
import { describeError } from './errors.ts';
import { missingKeyFiles, newKeysNotice } from './first-start.ts';
import { libraryCounts } from './libraries/library.ts';
import { listenFailure } from './listen-failure.ts';
import { createLogger, storeLog } from './log.ts';
import { loadKeys } from './security/keys.ts';
import { connectStore } from './store/registry.ts';

const configPath = process.env.PATRONYM_CONFIG ?? 'config/demo.yaml';

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfigFile(configPath, { kinds: authenticatorKinds });
  } catch (error) {
    process.stderr.write(
      `patronym: cannot start: ${error instanceof ConfigError ? error.message : describeError(error)}\n`,
    );
    process.exit(78); // EX_CONFIG
  }
  const log = workerLog(createLogger(config.log.level));
  const missingBefore = missingKeyFiles(config.keys.dir);
  const keys = await loadKeys(config.keys.dir, config.keys);
  const notice = newKeysNotice(config.keys.dir, missingBefore);
  if (notice) {
    process.stderr.write(`${notice}\n`);
    log.warn({ event: 'keys-generated', dir: config.keys.dir }, notice);
  }
  // workers above 1: this process only forks and minds the workers
  // (cluster.ts), once the store's schema is in place for all of them.
  const workers = workerCount(config.workers);
  if (workers > 1 && config.store.kind === 'memory') {
    process.stderr.write(
      'patronym: cannot start: workers above 1 need a sqlite or postgres store (memory is per process)\n',
    );
    process.exit(78); // EX_CONFIG
  }
  const prepare = async () => (await connectStore(config.store)).close();
  if (await runPrimary({ workers, log, prepare })) return;
  // Waits for the database (postgres: connected, schema migrated or refused
  // as newer) so a wrong URL stops the start, not the first sign-in.
  // Under workers the SQLite file has several writers, each holding what it
  // wrote behind until the others ask for it (store/sqlite.ts).
  const store = await connectStore(config.store, {
    shared: workers > 1,
    peers: workers > 1 && config.store.kind === 'sqlite' ? workerPeers(log) : undefined,
    ...storeLog(log),
  });
  // Loaded only where requests are served: the primary of `workers` never
  // needs the provider, Koa and the pages (they were 95 MiB of its RSS).
  const { createBrokerServer } = await import('./server.ts');
  const running = createBrokerServer({
    configPath,
    config,
    keys,
    store,
    log,
    loadKeys: () => loadKeys(config.keys.dir, config.keys),
  });

  const sweep = setInterval(() => {
    if (!sweepsStore()) return; // another worker sweeps
    store
      .sweep()
      .then(async (removed) => {
        await store.scrub();
        return removed;
      })
      .then(
        (removed) =>
          Object.keys(removed).length > 0 && log.info({ event: 'sweep', removed }, 'store: expired records removed'),
        (error: unknown) => log.error({ event: 'sweep', err: error }, 'store: sweep failed'),
      );
  }, config.sweepInterval * 1000);
  sweep.unref();

  // One line saying what to do (a busy port, a privileged one), no stack.
  const cannotListen = (error: NodeJS.ErrnoException) => {
    process.stderr.write(`patronym: cannot start: ${listenFailure(error, config.host, config.port)}\n`);
    process.exit(1);
  };
  running.server.once('error', cannotListen);
  running.server.listen(config.port, config.host, () => {
    running.server.off('error', cannotListen);
    // The pid is the broker's own (under `npm start`, npm is its parent):
    // the one to send SIGHUP to; under workers, the primary's (cluster.ts).
    announceStart(log, {
      issuer: config.issuer,
      host: config.host,
      port: config.port,
      store: store.kind,
      config: configPath,
      ...libraryCounts(running.current().broker.libraries),
    });
  });

  process.on('SIGHUP', () => {
    log.info({ event: 'reload', signal: 'SIGHUP' }, 'config: reloading');
    void running.reload();
  });
  // Graceful stop: not ready, no new connections, requests in flight
  // finish, then the store's pool closes. A request still running after
  // 10 s is cut (exit 1), so a stuck backend cannot hold a deploy up.
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ event: 'stop', signal }, 'patronym: shutting down');
    clearInterval(sweep);
    setTimeout(() => process.exit(1), 10_000).unref();
    running
      .close()
      .then(() => store.close())
      .then(
        () => {
          log.info({ event: 'stopped' }, 'patronym: stopped');
          process.exit(0);
        },
        (error: unknown) => {
          log.error({ event: 'stopped', err: error }, 'patronym: stopped with an error');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`patronym: cannot start: ${describeError(error)}\n`);
  process.exit(1);
});
