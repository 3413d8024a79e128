// `npm run bench [scenario…]`: complete OIDC sign-ins per second at
// concurrency 1, 8 and 32 for each backend scenario, with latency
// percentiles and the store's share of each sign-in; the file and LDAP
// scenarios once more on PostgreSQL; then one and two broker processes on
// one PostgreSQL (bench/instances.ts). Every request goes to loopback;
// every run is bounded.
//
//   npm run bench                      everything
//   npm run bench ldap ldap/postgres   chosen rows
//   npm run bench instances            only the multi-instance comparison
//   npm run bench config               only the start-up checks of a 1,000-library consortium
//   npm run bench compare              bare oidc-provider beside Patronym (LDAP; SQLite and
//                                      PostgreSQL, empty and with 100,000 records), provider,
//                                      backend and load generator in separate processes
//   npm run bench bare                 only the bare library's rows
//   npm run bench expired              bare, and Patronym's stores empty and pre-filled
//   npm run bench workers              bare, and main.ts as one process and as 2 workers
//   npm run bench sqlite               bare, and Patronym on an empty SQLite store (the quick check)
//   npm run bench paired               bare and Patronym on SQLite in BENCH_ROUNDS (5) paired rounds, medians;
//                                      BENCH_BASELINE=<checkout> adds that checkout's Patronym (A/B of a change);
//                                      BENCH_PAIRED=workers: main.ts as 1 process and as 2 workers instead;
//                                      BENCH_PAIRED=expired: each store empty and pre-filled (+100k);
//                                      BENCH_PAIRED=store: SQLite beside the in-process (memory) store;
//                                      BENCH_PAIRED=postgres: Patronym on PostgreSQL beside BENCH_BASELINE's;
//                                      BENCH_PAIRED=logging: main.ts at log level warn and at info (the default);
//                                      BENCH_PAIRED=ablate BENCH_ABLATE=throttle,…: Patronym with one function
//                                      switched off per row (needs bench/ablate.patch applied: bench/ablate.ts)
//   npm run bench soak                 SOAK_MINUTES (30) of load, RSS and store size each minute
//
// BENCH_COUNT and BENCH_SECONDS bound each row, BENCH_CONCURRENCY (1,8,32) picks the levels; BENCH_CPU_PROF=<dir> has the
// compared providers write V8 CPU profiles there (node --cpu-prof); BENCH_NODE_FLAGS adds node flags to them
// (--perf-basic-prof for `perf record`, see the README); BENCH_WARMUP (2000) is the compared providers' warm-up, per process;
// BENCH_STEPS=1 adds, for concurrency 1, each provider's CPU by step of the sign-in (bench/steps.ts).
// BENCH_INTERLEAVE=1 makes each paired round one load shared by every row's provider at once (bench/compare.ts).
import { cpus } from 'node:os';
import type { ConfigInput } from '../src/config/schema.ts';
import { removeDir, startBroker, vendor } from '../test/support/broker.ts';
import { type Postgres, postgresAvailable, startPostgres } from '../test/support/postgres.ts';
import { ablations } from './ablate.ts';
import {
  COMPARE_HEADER,
  formatCompare,
  formatSteps,
  ldapRows,
  type Measured,
  measurePaired,
  measureRows,
  medianRun,
} from './compare.ts';
import { benchConfig } from './config.ts';
import { instancesBench } from './instances.ts';
import { formatRow, HEADER, loginLoad } from './login-load.ts';
import { type Scenario, scenarios } from './scenarios.ts';
import { soak } from './soak.ts';
import { timeStore } from './store-timing.ts';

const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '1,8,32').split(',').map(Number);
const LIMITS = { count: Number(process.env.BENCH_COUNT ?? 400), seconds: Number(process.env.BENCH_SECONDS ?? 15) };

// Scenario rows: each backend on SQLite, file and LDAP also on PostgreSQL.
const rows: [string, Scenario, 'sqlite' | 'postgres'][] = [
  ...Object.entries(scenarios).map(([name, s]): [string, Scenario, 'sqlite'] => [name, s, 'sqlite']),
  ['file/postgres', scenarios.file as Scenario, 'postgres'],
  ['ldap/postgres', scenarios.ldap as Scenario, 'postgres'],
];
const wanted = process.argv.slice(2);
const selected = rows.filter(([name]) => wanted.length === 0 || wanted.includes(name));
const withInstances = wanted.length === 0 || wanted.includes('instances');
const withConfig = wanted.length === 0 || wanted.includes('config');
// Subsets of the comparison's rows (each with bare's, for the ratios).
const COMPARE_SETS: Record<string, (name: string) => boolean> = {
  compare: (name) => !name.includes('memory store') && !name.includes('info log'),
  bare: (name) => name.startsWith('bare'),
  expired: (name) => name.startsWith('bare') || /^patronym (sqlite|postgres)/.test(name),
  workers: (name) => name.startsWith('bare') || (name.includes('main.ts') && !name.includes('info log')),
  sqlite: (name) => name.startsWith('bare') || name === 'patronym sqlite',
};
// Only when asked for: bare and Patronym on SQLite in paired rounds.
const withPaired = wanted.includes('paired');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const compareSets = wanted.length === 0 ? ['compare'] : wanted.filter((w) => w in COMPARE_SETS);
const withCompare = compareSets.length > 0;
// Only when asked for: it runs for SOAK_MINUTES (default 30).
const withSoak = wanted.includes('soak');
if (selected.length === 0 && !withInstances && !withConfig && !withCompare && !withSoak && !withPaired) {
  process.stderr.write(
    `bench: no such scenario; choose from ${rows.map(([n]) => n).join(', ')}, ${Object.keys(COMPARE_SETS).join(', ')}, instances, config, soak\n`,
  );
  process.exit(2);
}

let pg: Postgres | undefined;

// The comparison with the bare library (bench/compare.ts): each of
// Patronym's rows also as a ratio of bare's at the same concurrency.
async function compare(wantedRow: (name: string) => boolean): Promise<void> {
  const setup = await (scenarios.ldap as Scenario)();
  const server = postgresAvailable() ? await postgres() : undefined;
  const rows = ldapRows(setup, server ? () => server.createDatabase() : undefined).filter((r) => wantedRow(r.name));
  process.stdout.write(
    '\nThe LDAP scenario, bare oidc-provider beside Patronym (+100k: the store holds 50,000 expired and 50,000 ' +
      'live records first); provider, slapd and load generator in separate processes\n' +
      `${COMPARE_HEADER}\n`,
  );
  const bare = new Map<number, Measured>();
  try {
    const measured = await measureRows(rows, setup, CONCURRENCY, LIMITS, server, (m) => {
      if (m.name.startsWith('bare')) bare.set(m.result.concurrency, m);
      process.stdout.write(`${formatCompare(m, bare.get(m.result.concurrency))}\n`);
    });
    printSteps(measured);
  } finally {
    await setup.teardown?.();
  }
}
// The rows `paired` sets beside bare, by BENCH_PAIRED (unset: Patronym
// beside BENCH_BASELINE's, the A/B of a change).
const PAIRED_ROWS: Record<string, () => string[]> = {
  '': () => ['patronym sqlite', 'patronym baseline'],
  // main.ts as one process and as 2 workers
  workers: () => ['patronym main.ts 1 proc', 'patronym main.ts 2 workers'],
  // each store empty and with 100,000 records (half expired), PostgreSQL
  // too where it is installed
  expired: () => ['patronym sqlite', 'patronym sqlite +100k', 'patronym postgres', 'patronym postgres +100k'],
  // Patronym on PostgreSQL beside BENCH_BASELINE's
  postgres: () => ['patronym postgres', 'patronym baseline postgres'],
  // main.ts logging at warn (as every other row) and at info (the default)
  logging: () => ['patronym main.ts 1 proc', 'patronym main.ts 1 proc, info log'],
  // one of Patronym's functions switched off per row (bench/ablate.ts)
  ablate: () => ['patronym sqlite', ...ablations().map((name) => `patronym -${name}`)],
  // SQLite beside the in-process store (the store's share of the cost)
  store: () => ['patronym sqlite', 'patronym memory store'],
};

// Bare and Patronym (SQLite) in paired rounds: each round runs both at
// each concurrency, seconds apart; the table is the median round of each.
async function paired(): Promise<void> {
  const setup = await (scenarios.ldap as Scenario)();
  const mode = process.env.BENCH_PAIRED ?? '';
  const rowsOf = PAIRED_ROWS[mode];
  if (!rowsOf) {
    throw new Error(
      `bench: BENCH_PAIRED: expected one of ${Object.keys(PAIRED_ROWS).filter(Boolean).join(', ')}, or unset; found "${mode}"`,
    );
  }
  if (mode === 'postgres' && !postgresAvailable()) throw new Error('bench: BENCH_PAIRED=postgres needs PostgreSQL');
  const server = (mode === 'expired' || mode === 'postgres') && postgresAvailable() ? await postgres() : undefined;
  const names = rowsOf();
  const rows = ldapRows(setup, server ? () => server.createDatabase() : undefined).filter(
    (r) => r.name.startsWith('bare') || names.includes(r.name),
  );
  process.stdout.write(
    `\nThe LDAP scenario, bare and ${names.join(', ')} in ${ROUNDS} paired rounds` +
      `${process.env.BENCH_INTERLEAVE === '1' ? ', interleaved (each round one load: every provider at once, each with its own sign-ins in flight)' : ''}\n${COMPARE_HEADER}\n`,
  );
  const bare = new Map<number, Measured>();
  try {
    const runs = await measurePaired(rows, setup, CONCURRENCY, LIMITS, ROUNDS, server, (m, round) => {
      if (m.name.startsWith('bare')) bare.set(m.result.concurrency, m);
      process.stdout.write(`${formatCompare({ ...m, name: `${m.name} #${round}` }, bare.get(m.result.concurrency))}\n`);
    });
    process.stdout.write(
      `\nMedian round (by CPU per sign-in) of each row; ratios between the medians\n${COMPARE_HEADER}\n`,
    );
    for (const c of CONCURRENCY) {
      const median = (name: string) => medianRun(runs.get(`${name}\u0000${c}`) ?? []);
      const bareMedian = median('bare oidc-provider');
      for (const row of rows) process.stdout.write(`${formatCompare(median(row.name), bareMedian)}\n`);
    }
    printSteps(rows.map((row) => medianRun(runs.get(`${row.name}\u00001`) ?? [])).filter(Boolean));
    if (mode === 'expired') printPrefilled(runs);
  } finally {
    await setup.teardown?.();
  }
}

// BENCH_STEPS=1: the rows at concurrency 1, step by step (bench/steps.ts).
function printSteps(measured: readonly Measured[]): void {
  const table = formatSteps(measured.filter((m) => m.result.concurrency === 1));
  if (table)
    process.stdout.write(
      `\nCPU ms per sign-in at concurrency 1, by step (requests that ran alone; in brackets: against bare)\n${table}`,
    );
}

// A pre-filled store against the same store empty, round by round (each
// pair seconds apart): provider CPU, and with PostgreSQL the server's too.
function printPrefilled(runs: Map<string, Measured[]>): void {
  process.stdout.write('\n+100k against the same store empty, CPU per sign-in, round by round\n');
  for (const store of ['sqlite', 'postgres']) {
    for (const c of CONCURRENCY) {
      const empty = runs.get(`patronym ${store}\u0000${c}`) ?? [];
      const full = runs.get(`patronym ${store} +100k\u0000${c}`) ?? [];
      if (empty.length === 0 || full.length === 0) continue;
      const cpu = (m: Measured) => (m.providerMs + (store === 'postgres' ? m.postgresMs : 0)) / (m.result.logins || 1);
      const ratios = empty.map((e, i) => cpu(full[i] as Measured) / cpu(e));
      const sorted = [...ratios].sort((a, b) => a - b);
      const median = sorted[Math.floor((sorted.length - 1) / 2)] as number;
      process.stdout.write(
        `  ${store.padEnd(8)} c=${String(c).padEnd(3)} ${ratios.map((r) => `×${r.toFixed(2)}`).join(' ')}  median ×${median.toFixed(2)}\n`,
      );
    }
  }
}

const postgres = async (): Promise<Postgres> => {
  if (!postgresAvailable()) throw new Error('bench: PostgreSQL rows need Debian’s postgresql package');
  pg ??= await startPostgres();
  return pg;
};

process.stdout.write(
  `Patronym sign-in benchmark: node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ` +
    `at most ${LIMITS.count} sign-ins or ${LIMITS.seconds} s per row\n`,
);
try {
  if (withPaired) await paired();
  if (withCompare) await compare((name) => compareSets.some((set) => COMPARE_SETS[set]?.(name)));
  if (selected.length > 0) process.stdout.write(`\n${HEADER}  store ms  store %  calls\n`);
  for (const [name, scenario, kind] of selected) {
    const setup = await scenario();
    const store: Partial<ConfigInput> =
      kind === 'postgres' ? { store: { kind: 'postgres', url: await (await postgres()).createDatabase() } } : {};
    const b = await startBroker({ config: { ...setup.config, ...store, log: { level: 'warn' } } });
    const timing = timeStore(b.store);
    try {
      const v = await vendor(b.issuer, 'demo-vendor', 'demo-vendor-secret');
      // Warm-up: JIT, connection pools, SQLite pages.
      await loginLoad(b, v, setup.cards, 4, { count: 20, seconds: 5 });
      for (const concurrency of CONCURRENCY) {
        timing.reset();
        const result = await loginLoad(b, v, setup.cards, concurrency, LIMITS);
        // Time waiting for the store per sign-in, and as a share of a
        // sign-in's latency (p50 as the typical one).
        const perLogin = result.logins ? timing.ms / result.logins : 0;
        const mean = result.logins ? (result.seconds * 1000 * concurrency) / result.logins : 0;
        process.stdout.write(
          `${formatRow(name, result)} ${perLogin.toFixed(1).padStart(9)} ${((100 * perLogin) / (mean || 1)).toFixed(1).padStart(7)} ${(result.logins ? timing.calls / result.logins : 0).toFixed(0).padStart(6)}${result.firstFailure ? `  (first failure: ${result.firstFailure})` : ''}\n`,
        );
      }
    } finally {
      await b.stop();
      removeDir(b.dir);
      await setup.teardown?.();
    }
  }
  if (withInstances) await instancesBench(await postgres(), LIMITS);
  if (withConfig) benchConfig();
  if (withSoak) await soak();
} finally {
  await pg?.dispose();
}
