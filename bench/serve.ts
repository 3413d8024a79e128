// One provider under test, in its own process (forked by bench/compare.ts
// with an IPC channel), so that its CPU time is read from /proc apart from
// the load generator's and the backend's. Either the bare library
// (bench/bare.ts) or Patronym in-process (test/support/broker.ts, the same
// code as `node src/main.ts`), on SQLite or PostgreSQL.
//
// Messages from the parent: { prefill: { expired, live } } fills the store
// (bench/prefill.ts), { plans: true } answers the store's query plans,
// { steps: true } the CPU counted per step of the sign-in so far (with
// BENCH_STEPS=1, bench/steps.ts), { stop: true } closes and exits. Answers:
// { ready: origin }, { prefilled: ms }, { plans: {...} }, { steps: {...} },
// { error: message }.
import type { ConfigInput } from '../src/config/schema.ts';
import { PostgresStore } from '../src/store/postgres.ts';
import { SqliteStore } from '../src/store/sqlite.ts';
import { removeDir, startBroker } from '../test/support/broker.ts';
import { switchOff } from './ablate.ts';
import { type BareOptions, startBare } from './bare.ts';
import { type PrefillCounts, prefill } from './prefill.ts';
import { countSteps, type StepCounts } from './steps.ts';

export type ServeOptions =
  | { kind: 'bare'; bare: Omit<BareOptions, 'port'>; port: number }
  // `ablate`: BENCH_PAIRED=ablate's rows (bench/ablate.ts).
  | { kind: 'patronym'; config: Partial<ConfigInput>; port: number; ablate?: string }
  // `node src/main.ts` itself, with this whole configuration (workers).
  | { kind: 'main'; config: ConfigInput; port: number };

type Message = { prefill?: PrefillCounts; plans?: boolean; steps?: boolean; stop?: boolean };

const send = (message: unknown) => process.send?.(message);
const options = JSON.parse(process.argv[2] ?? '{}') as ServeOptions;

// Counting only when asked: it adds two readings of the CPU clock to every
// request.
const counting = process.env.BENCH_STEPS === '1';
let steps: () => StepCounts = () => ({});

try {
  if (options.kind === 'bare') {
    const server = await startBare({ ...options.bare, port: options.port });
    if (counting) steps = countSteps(server);
    process.on('message', (m: Message) => {
      if (m.stop) server.close(() => process.exit(0));
      else if (m.steps) send({ steps: steps() });
      else send({ error: 'bare: no store' });
    });
    send({ ready: `http://127.0.0.1:${options.port}` });
  } else {
    if (options.kind === 'patronym' && options.ablate) switchOff(options.ablate);
    const b = await startBroker({ config: options.config, port: options.port });
    if (counting) steps = countSteps(b.server);
    process.on('message', (m: Message) => {
      if (m.steps) send({ steps: steps() });
      else if (m.stop) {
        void b.stop().then(() => {
          removeDir(b.dir);
          process.exit(0);
        });
      } else if (m.prefill) {
        const t0 = performance.now();
        prefill(b.store, m.prefill).then(
          () => send({ prefilled: performance.now() - t0 }),
          (error: unknown) => send({ error: String(error) }),
        );
      } else if (m.plans) {
        const store = b.store;
        const plans =
          store instanceof SqliteStore
            ? Promise.resolve(store.queryPlans())
            : store instanceof PostgresStore
              ? store.queryPlans()
              : Promise.resolve({});
        plans.then(
          (p) => send({ plans: p }),
          (error: unknown) => send({ error: String(error) }),
        );
      }
    });
    send({ ready: b.issuer });
  }
} catch (error) {
  send({ error: String((error as Error).stack ?? error) });
  process.exit(1);
}
