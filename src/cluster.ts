// `workers: N | auto`: N broker processes on one port (node:cluster; the
// primary accepts and hands connections round-robin), so every core signs
// patrons in. They share everything that must be shared through the store
// (sessions, codes, throttle counters, the release log: SQLite in WAL mode
// across processes, or PostgreSQL) and the keys folder. The primary serves
// no request: it prepares what must exist once (keys generated, the store's
// schema migrated), then forks the workers and looks after them: a worker
// that dies is replaced, SIGHUP is passed on to every worker (each reloads
// its configuration as a single process does), SIGTERM/SIGINT stop them all.
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import type { Config } from './config/config.ts';
import type { Logger } from './log.ts';

// Which worker this is (0 … N-1), kept by its replacement.
const SLOT_ENV = 'PATRONYM_WORKER_SLOT';

export const workerCount = (workers: Config['workers']): number =>
  workers === 'auto' ? availableParallelism() : workers;

// Whether this process sweeps expired records: a single process, or the
// first worker (N workers sweeping the same store would only get in each
// other's way).
export const sweepsStore = (): boolean => !cluster.isWorker || process.env[SLOT_ENV] === '0';

// A worker's log lines say which worker wrote them (they share stdout).
export const workerLog = (log: Logger): Logger =>
  cluster.isWorker ? log.child({ worker: Number(process.env[SLOT_ENV]), pid: process.pid }) : log;

export interface PrimaryOptions {
  workers: number;
  log: Logger;
  // Done once before forking: keys generated, the store's schema migrated.
  prepare: () => Promise<void>;
  // A worker dying this soon after it started counts as a crash loop: its
  // replacement waits, doubling up to `maxDelayMs`.
  quickDeathMs?: number;
  maxDelayMs?: number;
}

// Runs the primary when `workers` is above 1 and this is not a worker;
// resolves true then (the caller's own start-up must not go on), false in a
// worker or a single process.
export async function runPrimary(options: PrimaryOptions): Promise<boolean> {
  if (options.workers <= 1 || !cluster.isPrimary) return false;
  const { log } = options;
  await options.prepare();
  const quickDeathMs = options.quickDeathMs ?? 5000;
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  const slots = new Map<Worker, { slot: number; started: number }>();
  const delays = new Map<number, number>();
  let stopping = false;

  const fork = (slot: number) => {
    const worker = cluster.fork({ [SLOT_ENV]: String(slot) });
    slots.set(worker, { slot, started: Date.now() });
  };
  cluster.on('exit', (worker, code, signal) => {
    const entry = slots.get(worker);
    slots.delete(worker);
    if (!entry) return;
    if (stopping) {
      if (slots.size === 0) process.exit(0);
      return;
    }
    const lived = Date.now() - entry.started;
    const delay = lived < quickDeathMs ? Math.min(maxDelayMs, Math.max(100, 2 * (delays.get(entry.slot) ?? 50))) : 0;
    delays.set(entry.slot, delay);
    log.error(
      { event: 'worker_exit', pid: worker.process.pid, code, signal, slot: entry.slot, restartInMs: delay },
      `cluster: worker ${worker.process.pid} exited (${signal ?? `code ${code}`}); starting another`,
    );
    setTimeout(() => fork(entry.slot), delay);
  });
  for (let slot = 0; slot < options.workers; slot++) fork(slot);
  log.info({ event: 'cluster_start', workers: options.workers }, `cluster: ${options.workers} workers`);

  process.on('SIGHUP', () => {
    log.info({ event: 'reload', signal: 'SIGHUP', workers: slots.size }, 'cluster: reloading every worker');
    for (const worker of slots.keys()) worker.process.kill('SIGHUP');
  });
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ event: 'stop', signal }, 'cluster: stopping every worker');
    if (slots.size === 0) process.exit(0);
    for (const worker of slots.keys()) worker.process.kill('SIGTERM');
    // Workers give their requests 10 s; one still running after that is cut.
    setTimeout(() => {
      for (const worker of slots.keys()) worker.process.kill('SIGKILL');
      process.exit(1);
    }, 15_000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  return true;
}
