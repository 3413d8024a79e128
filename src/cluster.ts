// `workers: N | auto`: N broker processes on one port (node:cluster), so
// every core signs patrons in. The primary accepts each connection and hands
// it to the workers in turn (Node's default round-robin on Linux). Measured
// (README, "Workers"): with kept-alive connections the primary hands out
// connections, not requests (0.0–0.3 ms of its CPU per sign-in), in equal
// numbers; letting the workers accept themselves
// (NODE_CLUSTER_SCHED_POLICY=none) split the work as badly as 17/83, and
// SO_REUSEPORT sockets per worker balanced no better while dropping the
// connections queued at a worker that dies. They share everything that must be shared through the store
// (sessions, codes, throttle counters, the release log: SQLite in WAL mode
// across processes, or PostgreSQL) and the keys folder. The primary serves
// no request: it prepares what must exist once (keys generated, the store's
// schema migrated), then forks the workers and looks after them: a worker
// that dies is replaced, SIGHUP is passed on to every worker (each reloads
// its configuration as a single process does), SIGTERM/SIGINT stop them all.
// It also answers /metrics scrapes with the sum over workers (metrics.ts),
// and says once that the broker is listening, with its own pid: the one a
// sysadmin sends SIGHUP to.
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import type { Config } from './config/config.ts';
import type { Logger } from './log.ts';
import { serveClusterMetrics } from './metrics.ts';
import type { HeldWanted, StorePeers } from './store/store.ts';

// A worker tells the primary it is listening (IPC message type).
const STARTED = 'patronym:started';
// SQLite's write-behind across workers (store/sqlite.ts): a worker asks the
// primary to have every other worker write one record if it holds it (ASK
// with `want`: a miss), or everything it holds (ASK alone: before a
// revocation or a query by account), with the worker's number for the
// question; the primary passes the question on (WRITE, with its own
// number), each answers (WRITTEN), and the primary answers the worker that
// asked (ANSWERED) once all have, or after PEER_WAIT_MS (a worker that does
// not answer by then is stuck or dying: what it holds is lost as in a
// crash).
const ASK = 'patronym:peers-flush';
const WRITE = 'patronym:flush-held';
const WRITTEN = 'patronym:held-flushed';
const ANSWERED = 'patronym:peers-flushed';
const PEER_WAIT_MS = 2000;

type Want = { model: string; wanted: HeldWanted };
type Message = { type?: string; id?: number; want?: Want; fields?: StartFields };

// At most one question for everything in flight per worker: those that
// come while one is asked share the next, asked once the first is answered
// (a question asked before a need may have been answered before the record
// it needs was made). Questions for one record are each asked at once:
// one costs the other workers a lookup, and a write of that record only if
// they hold it (forged codes cost nothing but the round trip).
export function coalesce(ask: () => Promise<void>): () => Promise<void> {
  let current: Promise<void> | undefined;
  let next: Promise<void> | undefined;
  const flush = (): Promise<void> => {
    if (!current) {
      current = ask().finally(() => {
        current = undefined;
      });
      return current;
    }
    // Asked whether the question in flight was answered or failed.
    next ??= current
      .catch(() => undefined)
      .then(() => {
        next = undefined;
        return flush();
      });
    return next;
  };
  return flush;
}

// A worker's link to the other workers' held records (undefined outside
// workers).
export function workerPeers(log: Logger): StorePeers | undefined {
  if (!cluster.isWorker) return undefined;
  let nextId = 0;
  const asked = new Map<number, () => void>();
  process.on('message', (m: Message) => {
    if (m?.type !== ANSWERED || m.id === undefined) return;
    asked.get(m.id)?.();
    asked.delete(m.id);
  });
  const ask = (want?: Want) =>
    new Promise<void>((resolve) => {
      // Without the primary this worker is on its way out (cluster ends a
      // worker whose channel closes): nobody is left to ask.
      if (!process.connected) {
        resolve();
        return;
      }
      const id = nextId++;
      // The primary always answers; this only guards against it being gone.
      const timer = setTimeout(() => {
        asked.delete(id);
        resolve();
      }, 2 * PEER_WAIT_MS);
      asked.set(id, () => {
        clearTimeout(timer);
        resolve();
      });
      process.send?.(want ? { type: ASK, id, want } : { type: ASK, id });
    });
  return {
    flush: coalesce(() => ask()),
    fetch: (model, wanted) => ask({ model, wanted }),
    answer(flushHeld, writeHeld) {
      process.on('message', (m: Message) => {
        if (m?.type !== WRITE) return;
        (m.want ? writeHeld(m.want.model, m.want.wanted) : flushHeld())
          .catch((error: unknown) =>
            log.error({ event: 'store-write', err: error }, 'store: writing held records for another worker failed'),
          )
          .finally(() => {
            if (process.connected) process.send?.({ type: WRITTEN, id: m.id });
          });
      });
    },
  };
}

// What the start line says about the broker (built by whoever listens).
interface StartFields {
  issuer: string;
  host: string;
  port: number;
  store: string;
  config: string;
  libraries: number;
  realms: number;
}

const startMessage = (f: StartFields, pid: number, workers: number) =>
  `patronym: listening on ${f.host}:${f.port} as ${f.issuer}${workers > 1 ? ` with ${workers} workers` : ''} (pid ${pid}; reload the configuration with kill -HUP ${pid})`;

// Called once the server listens. A single process logs the start line; a
// worker logs its own start at debug and tells the primary, which logs the
// start line once every worker listens.
export function announceStart(log: Logger, fields: StartFields): void {
  if (!cluster.isWorker) {
    log.info({ event: 'start', pid: process.pid, ...fields }, startMessage(fields, process.pid, 1));
    return;
  }
  log.debug({ event: 'worker_start', ...fields }, `cluster: worker ${process.pid} listening`);
  process.send?.({ type: STARTED, fields });
}

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
  const listening = new Set<Worker>();
  let announced = false;
  let stopping = false;
  serveClusterMetrics(() => listening);
  // Questions passed on to the workers (see ASK), by the primary's number.
  let nextQuestion = 0;
  const questions = new Map<number, { from: Worker; id: number; waiting: Set<Worker>; timer: NodeJS.Timeout }>();
  const answer = (question: number) => {
    const q = questions.get(question);
    if (!q) return;
    questions.delete(question);
    clearTimeout(q.timer);
    if (q.from.isConnected()) q.from.send({ type: ANSWERED, id: q.id });
  };
  const written = (worker: Worker, question: number) => {
    const q = questions.get(question);
    if (!q) return;
    q.waiting.delete(worker);
    if (q.waiting.size === 0) answer(question);
  };
  cluster.on('message', (worker, m: Message) => {
    if (m?.type === ASK && m.id !== undefined) {
      // Workers not yet listening have served nothing, so hold nothing.
      const others = [...listening].filter((w) => w !== worker && w.isConnected());
      if (others.length === 0) {
        worker.send({ type: ANSWERED, id: m.id });
        return;
      }
      const question = nextQuestion++;
      const timer = setTimeout(() => {
        log.warn(
          { event: 'peers-flush-timeout', waitingFor: questions.get(question)?.waiting.size },
          `cluster: a worker did not write its held records within ${PEER_WAIT_MS} ms`,
        );
        answer(question);
      }, PEER_WAIT_MS);
      questions.set(question, { from: worker, id: m.id, waiting: new Set(others), timer });
      for (const w of others)
        w.send(m.want ? { type: WRITE, id: question, want: m.want } : { type: WRITE, id: question });
      return;
    }
    if (m?.type === WRITTEN && m.id !== undefined) {
      written(worker, m.id);
      return;
    }
    if (m?.type !== STARTED || !m.fields) return;
    listening.add(worker);
    const slot = slots.get(worker)?.slot;
    if (announced) {
      log.info(
        { event: 'worker_start', pid: worker.process.pid, slot },
        `cluster: worker ${worker.process.pid} (slot ${slot}) listening`,
      );
    } else if (listening.size === options.workers) {
      announced = true;
      log.info(
        { event: 'start', pid: process.pid, workers: options.workers, ...m.fields },
        startMessage(m.fields, process.pid, options.workers),
      );
    }
  });

  const fork = (slot: number) => {
    const worker = cluster.fork({ [SLOT_ENV]: String(slot) });
    slots.set(worker, { slot, started: Date.now() });
  };
  cluster.on('exit', (worker, code, signal) => {
    const entry = slots.get(worker);
    slots.delete(worker);
    listening.delete(worker);
    // A dead worker answers no question any more.
    for (const question of [...questions.keys()]) written(worker, question);
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
