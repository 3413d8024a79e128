// Prometheus metrics. Labels name libraries, authenticators and outcomes,
// never a patron.
//
// Under `workers: N` each worker counts what it served, and a scrape lands
// on whichever worker the connection went to; /metrics must still report
// the whole broker. So a worker's registry answers a scrape by asking the
// primary, which collects every listening worker's own metrics and sums
// them with prom-client's AggregatorRegistry (counters and histogram
// buckets add up). A worker that dies takes its counts with it: the sum
// drops, which Prometheus's rate() reads as a counter reset.
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, Counter, Histogram, Registry } from 'prom-client';
import { PatronymError } from './errors.ts';

export interface Metrics {
  registry: Registry;
  logins: Counter<'library' | 'authenticator' | 'outcome' | 'reason'>;
  backendSeconds: Histogram<'authenticator' | 'outcome'>;
}

// The IPC messages: a worker asks for the sum (ASK → SUM), the primary asks
// each worker for its own (GET → OWN).
const ASK = 'patronym:metrics-ask';
const SUM = 'patronym:metrics-sum';
const GET = 'patronym:metrics-get';
const OWN = 'patronym:metrics-own';
const GATHER_MS = 5000;

interface Message {
  type?: string;
  id?: number;
  text?: string;
  error?: string;
  // getMetricsAsJSON()'s answer, which aggregate() takes as plain objects.
  metrics?: object[];
}

// A worker's registry: its scrape is the primary's sum over all workers.
class WorkerRegistry extends Registry {
  override metrics(): Promise<string> {
    return askPrimary();
  }
}

export function createMetrics(): Metrics {
  const registry = cluster.isWorker ? new WorkerRegistry() : new Registry();
  if (cluster.isWorker) answerPrimary(registry);
  return {
    registry,
    logins: new Counter({
      name: 'patronym_logins_total',
      help: 'Sign-in attempts by library, deciding authenticator and outcome.',
      labelNames: ['library', 'authenticator', 'outcome', 'reason'],
      registers: [registry],
    }),
    backendSeconds: new Histogram({
      name: 'patronym_authenticator_seconds',
      help: 'Time each authenticator took to answer, by outcome.',
      labelNames: ['authenticator', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
  };
}

// ---- in a worker ----

// The registry the primary's GET reads: the last one made (a worker makes
// one, in server.ts, which outlives reloads).
let own: Registry | undefined;
const asks = new Map<number, { resolve: (text: string) => void; reject: (error: Error) => void }>();
let nextAsk = 0;

function answerPrimary(registry: Registry): void {
  const first = own === undefined;
  own = registry;
  if (!first) return;
  process.on('message', (m: Message) => {
    if (m?.type === GET && own) {
      own.getMetricsAsJSON().then(
        (metrics) => process.send?.({ type: OWN, id: m.id, metrics }),
        (error: unknown) => process.send?.({ type: OWN, id: m.id, error: String(error) }),
      );
    } else if (m?.type === SUM && m.id !== undefined) {
      const ask = asks.get(m.id);
      asks.delete(m.id);
      if (m.error !== undefined) ask?.reject(metricsError(m.error));
      else ask?.resolve(m.text ?? '');
    }
  });
}

const metricsError = (why: string) =>
  new PatronymError('metrics_unavailable', `metrics: the workers' sum could not be gathered (${why})`);

function askPrimary(): Promise<string> {
  const id = nextAsk++;
  return new Promise<string>((resolve, reject) => {
    // The primary gives up on a silent worker after GATHER_MS; this covers
    // a primary that never answers.
    const timer = setTimeout(() => {
      asks.delete(id);
      reject(metricsError('the primary did not answer'));
    }, 2 * GATHER_MS);
    asks.set(id, {
      resolve: (text) => {
        clearTimeout(timer);
        resolve(text);
      },
      reject: (error) => {
        clearTimeout(timer);
        reject(error);
      },
    });
    process.send?.({ type: ASK, id });
  });
}

// ---- in the primary ----

// Answers workers' scrapes with the sum over `workers()` (those listening:
// a worker still starting has no registry yet and would not answer).
export function serveClusterMetrics(workers: () => Iterable<Worker>): void {
  let nextGather = 0;
  const gathers = new Map<number, { waiting: Set<Worker>; got: object[][]; done: (error?: string) => void }>();
  const settle = (id: number, worker: Worker) => {
    const gather = gathers.get(id);
    if (!gather) return;
    gather.waiting.delete(worker);
    if (gather.waiting.size === 0) gather.done();
  };
  const gather = (): Promise<string> =>
    new Promise((resolve, reject) => {
      const id = nextGather++;
      const waiting = new Set([...workers()].filter((w) => w.isConnected()));
      const got: object[][] = [];
      const timer = setTimeout(
        () => finish(`${gathers.get(id)?.waiting.size} worker(s) silent for ${GATHER_MS} ms`),
        GATHER_MS,
      );
      const finish = (error?: string) => {
        clearTimeout(timer);
        gathers.delete(id);
        if (error) reject(new Error(error));
        else AggregatorRegistry.aggregate(got).metrics().then(resolve, reject);
      };
      gathers.set(id, { waiting, got, done: finish });
      for (const worker of waiting) worker.send({ type: GET, id });
      if (waiting.size === 0) finish();
    });
  cluster.on('message', (worker: Worker, m: Message) => {
    if (m?.type === OWN && m.id !== undefined) {
      const g = gathers.get(m.id);
      if (!g) return;
      if (m.error !== undefined) return g.done(m.error);
      if (m.metrics) g.got.push(m.metrics);
      settle(m.id, worker);
    } else if (m?.type === ASK) {
      gather().then(
        (text) => worker.isConnected() && worker.send({ type: SUM, id: m.id, text }),
        (error: unknown) =>
          worker.isConnected() && worker.send({ type: SUM, id: m.id, error: (error as Error).message }),
      );
    }
  });
  // A worker that dies during a gather no longer counts: the sum is of the rest.
  cluster.on('exit', (worker: Worker) => {
    for (const id of [...gathers.keys()]) settle(id, worker);
  });
}
