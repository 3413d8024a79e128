// Patronym beside the bare library, measured minutes apart in one run: the
// LDAP scenario's sign-ins per second and CPU per sign-in for the bare
// reference (bench/bare.ts) and for Patronym on SQLite and PostgreSQL,
// each also with a store pre-filled with 50,000 expired and 50,000 live
// records (a sign-in's cost must not depend on them). The provider runs in
// its own process (bench/serve.ts) and the load generator in another
// (bench/drive.ts); CPU per sign-in is read from /proc for the provider,
// the backend (slapd), PostgreSQL, and reported by the generator itself.
// Every figure of Patronym is also printed as a ratio of bare's.
import { type ChildProcess, execFile, fork, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import type { ConfigInput } from '../src/config/schema.ts';
import { removeDir } from '../test/support/broker.ts';
import type { Postgres } from '../test/support/postgres.ts';
import { freePort } from '../test/support/slapd.ts';
import { ablations } from './ablate.ts';
import type { DriveOptions, DriveResult } from './drive.ts';
import type { PrefillCounts } from './prefill.ts';
import { cpuMs, family, familyCpuMs, peakRssMiB, postmasterPid } from './procs.ts';
import type { ScenarioSetup } from './scenarios.ts';
import type { ServeOptions } from './serve.ts';
import { STEPS, type StepCounts, stepsPerSignIn } from './steps.ts';

const run = promisify(execFile);
const CLIENT = { id: 'demo-vendor', secret: 'demo-vendor-secret', redirect: 'http://localhost:3001/callback' };
// Sign-ins before a provider is measured: BENCH_WARMUP (2,000) at
// concurrency 4, per process: V8 optimises each process's hot paths on its
// own, so two workers get twice as many (with 60 in all, a tenth of the
// first rows' CPU was still TurboFan compiling on its background thread,
// and each of two workers had seen half as many sign-ins as one process).
const WARM_UP = { count: Number(process.env.BENCH_WARMUP ?? 2000), seconds: 120 };
const warmUp = (options: ServeOptions) => {
  const workers = options.kind === 'main' && typeof options.config.workers === 'number' ? options.config.workers : 1;
  return { count: WARM_UP.count * workers, seconds: WARM_UP.seconds * workers };
};
const PREFILL: PrefillCounts = { expired: 50_000, live: 50_000 };

export interface CompareRow {
  name: string;
  serve: (port: number) => Promise<ServeOptions>;
  prefill?: PrefillCounts;
  // Another checkout's bench/ (BENCH_BASELINE): its serve.ts runs the row.
  bench?: string;
}

export interface Measured {
  name: string;
  result: DriveResult;
  providerMs: number;
  backendMs: number;
  postgresMs: number;
  rssMiB: number;
  // Under workers: the primary's CPU and each worker's, in ms (which of
  // them the sign-ins cost, and how evenly the workers shared them).
  parts?: { primaryMs: number; workersMs: number[] };
  // BENCH_STEPS=1, concurrency 1: CPU ms per sign-in by step (bench/steps.ts).
  steps?: { name: string; ms: number }[];
}

export interface Served {
  child: ChildProcess;
  origin: string;
  ask(message: object, answer: string): Promise<unknown>;
  // CPU and memory counted over the process and its children (workers).
  family?: boolean;
  // A folder of its own (keys, store), removed when it stops.
  own?: string;
}

// `node src/main.ts` on a configuration file; started once /healthz
// answers. Its CPU is that of the primary and its workers.
export async function serveMain(options: Extract<ServeOptions, { kind: 'main' }>, dir: string): Promise<Served> {
  const file = join(dir, `config-${options.port}.yaml`);
  writeFileSync(file, stringify(options.config));
  // BENCH_CPU_PROF: a profile of the primary and of each worker (cluster
  // gives the workers the primary's execArgv).
  const child = spawn(process.execPath, [...providerFlags(), join(import.meta.dirname, '..', 'src', 'main.ts')], {
    env: { ...process.env, PATRONYM_CONFIG: file, PORT: String(options.port) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const origin = `http://127.0.0.1:${options.port}`;
  for (let i = 0; i < 300 && child.exitCode === null; i++) {
    if (
      await fetch(`${origin}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const ask = async () => {
    throw new Error('bench: a main.ts provider takes no messages');
  };
  const keys = options.config.keys?.dir;
  return { child, origin, ask, family: true, ...(keys ? { own: dirname(keys) } : {}) };
}

// Node flags for every provider: BENCH_CPU_PROF=<dir> writes V8 CPU
// profiles; BENCH_NODE_FLAGS adds others (`--perf-basic-prof`, so that
// `perf record -e cpu-clock` names JavaScript frames: samples of CPU time,
// kernel and native code included, where V8's profiler samples wall time).
function providerFlags(): string[] {
  const profile = process.env.BENCH_CPU_PROF;
  const extra = process.env.BENCH_NODE_FLAGS?.split(/\s+/).filter(Boolean) ?? [];
  return [...(profile ? ['--cpu-prof', '--cpu-prof-dir', profile] : []), ...extra];
}

// Forks bench/serve.ts and waits for its first answer.
async function serve(options: ServeOptions, dir: string, bench = import.meta.dirname): Promise<Served> {
  if (options.kind === 'main') return serveMain(options, dir);
  const child = fork(join(bench, 'serve.ts'), [JSON.stringify(options)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: providerFlags(),
  });
  const ask = (message: object, answer: string) =>
    new Promise<unknown>((resolve, reject) => {
      const on = (m: Record<string, unknown>) => {
        if (answer in m || 'error' in m) {
          child.off('message', on);
          if ('error' in m) reject(new Error(`bench: provider: ${String(m.error)}`));
          else resolve(m[answer]);
        }
      };
      child.on('message', on);
      if (Object.keys(message).length > 0) child.send(message);
    });
  const origin = (await ask({}, 'ready')) as string;
  return { child, origin, ask };
}

export async function stopServed(s: Served): Promise<void> {
  const exited = new Promise((resolve) => s.child.once('exit', resolve));
  if (s.family) s.child.kill('SIGTERM');
  else s.child.send({ stop: true });
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  if (s.child.exitCode === null) s.child.kill('SIGKILL');
  if (s.own) removeDir(s.own);
}

// BENCH_STEPS=1: at concurrency 1, each provider's CPU by step of the
// sign-in too (bench/steps.ts; not for main.ts, which has no channel).
const COUNTING = process.env.BENCH_STEPS === '1';

async function withSteps(s: Served, c: number, measure: () => Promise<Measured>): Promise<Measured> {
  if (!COUNTING || c !== 1 || s.family) return measure();
  const before = await askSteps(s);
  const m = await measure();
  const after = before && (await askSteps(s));
  return after ? { ...m, steps: stepsPerSignIn(before, after, m.result.logins, m.providerMs) } : m;
}

// A provider's counts; undefined from one that does not count them (a
// BENCH_BASELINE checkout from before bench/steps.ts never answers: it is
// asked once).
const silent = new WeakSet<Served>();
async function askSteps(s: Served): Promise<StepCounts | undefined> {
  if (silent.has(s)) return undefined;
  let timer: NodeJS.Timeout | undefined;
  const silence = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), 3000);
  });
  const answer = (s.ask({ steps: true }, 'steps') as Promise<StepCounts>).catch(() => undefined);
  const counts = await Promise.race([answer, silence]).finally(() => clearTimeout(timer));
  if (!counts) silent.add(s);
  return counts;
}

// Runs the load generator in its own process; resolves with its result.
export async function driveLoad(options: DriveOptions, dir: string): Promise<DriveResult> {
  const file = join(dir, `drive-${options.concurrency}-${Date.now()}.json`);
  writeFileSync(file, JSON.stringify(options));
  const { stdout } = await run(process.execPath, [join(import.meta.dirname, 'drive.ts'), file], {
    maxBuffer: 1 << 20,
    timeout: (options.seconds + 120) * 1000,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1) as string) as DriveResult;
}

// One row at one concurrency: the load, and the CPU each process spent on it
// (under workers the primary's and each worker's too; at concurrency 1 with
// BENCH_STEPS=1, each step's).
async function measureOne(
  name: string,
  s: Served,
  c: number,
  load: () => Promise<DriveResult>,
  others: { backend: () => number; pgPid: number },
): Promise<Measured> {
  const { backend, pgPid } = others;
  const pid = s.child.pid as number;
  const providerCpu = () => (s.family ? familyCpuMs(pid) : cpuMs(pid));
  return withSteps(s, c, async () => {
    const before = { provider: providerCpu(), backend: backend(), pg: pgPid ? familyCpuMs(pgPid) : 0 };
    const members = s.family ? family(pid) : [];
    const memberCpu = members.map(cpuMs);
    const result = await load();
    const spent = members.map((p, i) => cpuMs(p) - (memberCpu[i] as number));
    return {
      name,
      result,
      providerMs: providerCpu() - before.provider,
      backendMs: backend() - before.backend,
      postgresMs: pgPid ? familyCpuMs(pgPid) - before.pg : 0,
      rssMiB: s.family ? family(pid).reduce((sum, p) => sum + peakRssMiB(p), 0) : peakRssMiB(pid),
      ...(members.length > 1 ? { parts: { primaryMs: spent[0] as number, workersMs: spent.slice(1) } } : {}),
    };
  });
}

export async function measureRows(
  rows: readonly CompareRow[],
  setup: ScenarioSetup,
  concurrency: readonly number[],
  limits: { count: number; seconds: number },
  pg: Postgres | undefined,
  print: (m: Measured) => void,
): Promise<Measured[]> {
  const dir = mkdtempSync(join(tmpdir(), 'patronym-bench-compare-'));
  const pgPid = pg ? postmasterPid(join(pg.dir, 'data')) : 0;
  const backend = () => (setup.backendPids?.() ?? []).reduce((sum, pid) => sum + cpuMs(pid), 0);
  const all: Measured[] = [];
  try {
    for (const row of rows) {
      const options = await row.serve(await freePort());
      const s = await serve(options, dir);
      const drive = (c: number, l: { count: number; seconds: number }) =>
        driveLoad(
          { origins: [s.origin], issuer: s.origin, client: CLIENT, cards: setup.cards, concurrency: c, ...l },
          dir,
        );
      try {
        // Warm-up (JIT, pools, pages), and the templates a prefill copies.
        await drive(4, warmUp(options));
        if (row.prefill) await s.ask({ prefill: row.prefill }, 'prefilled');
        for (const c of concurrency) {
          const m = await measureOne(row.name, s, c, () => drive(c, limits), { backend, pgPid });
          all.push(m);
          print(m);
        }
      } finally {
        await stopServed(s);
      }
    }
  } finally {
    removeDir(dir);
  }
  return all;
}

// Paired rounds (`npm run bench paired`): every row's provider started at
// once, then `rounds` times, for each concurrency, each row in turn (in an
// order that turns by one row each round) for the same number of sign-ins,
// so that each ratio to bare compares runs seconds apart, not minutes (a
// shared machine's speed drifts by 20-30% over minutes, which unpaired rows
// read as a difference between providers).
// Prints each round, then the median per row and concurrency.
//
// BENCH_INTERLEAVE=1: each round at each concurrency is one load whose
// sign-ins go to every row's provider in turn, `c` at a time at each
// (measureTogether): every provider then runs through the same seconds of
// the machine, whose drift no longer falls between rows.
const INTERLEAVE = process.env.BENCH_INTERLEAVE === '1';

export async function measurePaired(
  rows: readonly CompareRow[],
  setup: ScenarioSetup,
  concurrency: readonly number[],
  limits: { count: number; seconds: number },
  rounds: number,
  pg: Postgres | undefined,
  print: (m: Measured, round: number) => void,
): Promise<Map<string, Measured[]>> {
  const dir = mkdtempSync(join(tmpdir(), 'patronym-bench-paired-'));
  const pgPid = pg ? postmasterPid(join(pg.dir, 'data')) : 0;
  const backend = () => (setup.backendPids?.() ?? []).reduce((sum, pid) => sum + cpuMs(pid), 0);
  const all = new Map<string, Measured[]>();
  const served: Served[] = [];
  try {
    const options: ServeOptions[] = [];
    for (const row of rows) {
      const o = await row.serve(await freePort());
      options.push(o);
      served.push(await serve(o, dir, row.bench));
    }
    const drive = (s: Served, c: number, l: { count: number; seconds: number }) =>
      driveLoad(
        { origins: [s.origin], issuer: s.origin, client: CLIENT, cards: setup.cards, concurrency: c, ...l },
        dir,
      );
    for (const [i, s] of served.entries()) await drive(s, 4, warmUp(options[i] as ServeOptions));
    // +100k rows: filled once, after the warm-up; bench/serve.ts never
    // sweeps, so every round meets the expired records.
    for (const [i, row] of rows.entries())
      if (row.prefill) await (served[i] as Served).ask({ prefill: row.prefill }, 'prefilled');
    for (let round = 1; round <= rounds; round++) {
      for (const c of concurrency) {
        if (INTERLEAVE) {
          const together = await measureTogether(rows, served, setup, c, limits, dir, { backend, pgPid });
          for (const m of together) {
            const k = `${m.name}\u0000${c}`;
            all.set(k, [...(all.get(k) ?? []), m]);
            print(m, round);
          }
          continue;
        }
        // The order turns by one row each round: in an A/A run (the same
        // code as two rows) the row measured right after bare came out up
        // to 13% cheaper at concurrency 8 in the median, so a fixed order
        // reads as a difference between the rows. Printed in row order.
        const measured: Measured[] = [];
        for (let turn = 0; turn < rows.length; turn++) {
          const i = (turn + round - 1) % rows.length;
          const row = rows[i] as CompareRow;
          const s = served[i] as Served;
          const m = await measureOne(row.name, s, c, () => drive(s, c, limits), { backend, pgPid });
          const k = `${row.name}\u0000${c}`;
          all.set(k, [...(all.get(k) ?? []), m]);
          measured[i] = m;
        }
        for (const m of measured) print(m, round);
      }
    }
  } finally {
    for (const s of served) await stopServed(s);
    removeDir(dir);
  }
  return all;
}

// One load for all rows (BENCH_INTERLEAVE=1): sign-in n goes to row n mod
// rows, with `c` sign-ins in flight at each provider. Each row's CPU is its
// own process's; its sign-ins, rate and latencies are its origin's; the
// backend's, PostgreSQL's and the generator's CPU are shared out by
// sign-ins. Steps (BENCH_STEPS=1, c = 1) are counted as in the other
// rounds: each provider still answers one request at a time.
async function measureTogether(
  rows: readonly CompareRow[],
  served: readonly Served[],
  setup: ScenarioSetup,
  c: number,
  limits: { count: number; seconds: number },
  dir: string,
  others: { backend: () => number; pgPid: number },
): Promise<Measured[]> {
  const { backend, pgPid } = others;
  const providerCpu = (s: Served) => {
    const pid = s.child.pid as number;
    return s.family ? familyCpuMs(pid) : cpuMs(pid);
  };
  const counting = COUNTING && c === 1;
  const stepsBefore = counting ? await Promise.all(served.map(askSteps)) : [];
  const before = { providers: served.map(providerCpu), backend: backend(), pg: pgPid ? familyCpuMs(pgPid) : 0 };
  const origins = served.map((s) => s.origin);
  const result = await driveLoad(
    {
      origins,
      issuers: origins,
      issuer: origins[0] as string,
      client: CLIENT,
      cards: setup.cards,
      concurrency: c * served.length,
      count: limits.count * served.length,
      seconds: limits.seconds,
    },
    dir,
  );
  const spent = {
    providers: served.map((s, i) => providerCpu(s) - (before.providers[i] as number)),
    backend: backend() - before.backend,
    pg: pgPid ? familyCpuMs(pgPid) - before.pg : 0,
  };
  const stepsAfter = counting ? await Promise.all(served.map(askSteps)) : [];
  return served.map((s, i) => {
    const own = result.byOrigin[i] as DriveResult['byOrigin'][number];
    const share = own.logins / (result.logins || 1);
    const providerMs = spent.providers[i] as number;
    const stepsFrom = stepsBefore[i];
    const stepsTo = stepsAfter[i];
    return {
      name: (rows[i] as CompareRow).name,
      result: {
        ...own,
        concurrency: c,
        cpuMs: result.cpuMs * share,
        byOrigin: [],
        ...(own.failures > 0 && result.firstFailure ? { firstFailure: result.firstFailure } : {}),
      },
      providerMs,
      backendMs: spent.backend * share,
      postgresMs: spent.pg * share,
      rssMiB: s.family
        ? family(s.child.pid as number).reduce((sum, p) => sum + peakRssMiB(p), 0)
        : peakRssMiB(s.child.pid as number),
      ...(stepsFrom && stepsTo ? { steps: stepsPerSignIn(stepsFrom, stepsTo, own.logins, providerMs) } : {}),
    };
  });
}

// The run whose CPU per sign-in is the median of a row's rounds.
export function medianRun(runs: readonly Measured[]): Measured {
  const per = (m: Measured) => m.providerMs / (m.result.logins || 1);
  return [...runs].sort((a, b) => per(a) - per(b))[Math.floor((runs.length - 1) / 2)] as Measured;
}

// ---- the table ----

export const COMPARE_HEADER =
  'provider                 conc  logins fails  logins/s  ×bare  p50 ms  p99 ms | CPU ms per sign-in: provider  ×bare  backend  postgres  loadgen | RSS MiB';

export function formatCompare(m: Measured, bare: Measured | undefined): string {
  const r = m.result;
  const per = (ms: number) => (r.logins ? ms / r.logins : 0);
  const ratio = (a: number, b: number | undefined) => (b ? (a / b).toFixed(2) : '—');
  const bareRate = bare?.result.perSecond;
  const bareCpu = bare ? bare.providerMs / (bare.result.logins || 1) : undefined;
  return [
    m.name.padEnd(24),
    String(r.concurrency).padStart(4),
    String(r.logins).padStart(7),
    String(r.failures).padStart(5),
    r.perSecond.toFixed(1).padStart(9),
    ratio(r.perSecond, bareRate).padStart(6),
    r.p50.toFixed(0).padStart(7),
    r.p99.toFixed(0).padStart(7),
    ' |',
    per(m.providerMs).toFixed(2).padStart(28),
    ratio(per(m.providerMs), bareCpu).padStart(6),
    per(m.backendMs).toFixed(2).padStart(8),
    per(m.postgresMs).toFixed(2).padStart(9),
    per(r.cpuMs).toFixed(2).padStart(8),
    ' |',
    m.rssMiB.toFixed(0).padStart(8),
    r.firstFailure ? `  (first failure: ${r.firstFailure})` : '',
    m.parts
      ? `\n${''.padEnd(30)}of which primary ${per(m.parts.primaryMs).toFixed(2)}, workers ${m.parts.workersMs.map((ms) => per(ms).toFixed(2)).join(' / ')}`
      : '',
  ].join(' ');
}

// The rows of the LDAP comparison.
export function ldapRows(setup: ScenarioSetup, postgresUrl: (() => Promise<string>) | undefined): CompareRow[] {
  const ldap = setup.ldap;
  if (!ldap) throw new Error('bench: the comparison needs the ldap scenario');
  const patronym =
    (store: () => Promise<Partial<ConfigInput>>) =>
    async (port: number): Promise<Extract<ServeOptions, { kind: 'patronym' }>> => ({
      kind: 'patronym',
      port,
      config: {
        ...setup.config,
        ...(await store()),
        log: { level: 'warn' },
        // One load generator stands for many patrons at many addresses.
        throttle: { address: { lockAfter: 100_000, window: 900, lock: 900 } },
      } as Partial<ConfigInput>,
    });
  const sqlite = async () => ({});
  const memory = async () => ({ store: { kind: 'memory' } }) as Partial<ConfigInput>;
  // main.ts with `workers`, on SQLite (WAL across processes).
  // `level`: the other rows log at `warn`; `info` (the default) writes a
  // line per sign-in, here to /dev/null (main.ts's stdout is ignored).
  const processes =
    (workers: number, level: 'warn' | 'info' = 'warn') =>
    async (port: number): Promise<ServeOptions> => {
      const dir = mkdtempSync(join(tmpdir(), 'patronym-bench-workers-'));
      return {
        kind: 'main',
        port,
        config: {
          ...(setup.config as ConfigInput),
          issuer: `http://127.0.0.1:${port}`,
          host: '127.0.0.1',
          port,
          workers,
          store: { kind: 'sqlite', path: join(dir, 'patronym.sqlite') },
          keys: { dir: join(dir, 'keys') },
          log: { level },
          throttle: { address: { lockAfter: 100_000, window: 900, lock: 900 } },
          realms: [{ id: 'springfield', scope: 'springfield.example.org' }],
          clients: [{ client_id: CLIENT.id, client_secret: CLIENT.secret, redirect_uris: [CLIENT.redirect] }],
        } as ConfigInput,
      };
    };
  const rows: CompareRow[] = [
    {
      name: 'bare oidc-provider',
      serve: async (port) => ({
        kind: 'bare',
        port,
        bare: {
          ldap,
          clients: [{ client_id: CLIENT.id, client_secret: CLIENT.secret, redirect_uris: [CLIENT.redirect] }],
        },
      }),
    },
    { name: 'patronym sqlite', serve: patronym(sqlite) },
    { name: 'patronym sqlite +100k', serve: patronym(sqlite), prefill: PREFILL },
    // Not a configuration to run: the same broker on the in-process store
    // (nothing durable, no file), to tell the store's share of a sign-in's
    // cost from the rest of the product's.
    { name: 'patronym memory store', serve: patronym(memory) },
    { name: 'patronym main.ts 1 proc', serve: processes(1) },
    { name: 'patronym main.ts 2 workers', serve: processes(2) },
    // Not in `compare`: the cost of the default log level (BENCH_PAIRED=logging).
    { name: 'patronym main.ts 1 proc, info log', serve: processes(1, 'info') },
  ];
  // BENCH_ABLATE=throttle,…: the same broker with one function switched
  // off per row (bench/ablate.ts).
  for (const name of ablations()) {
    rows.push({
      name: `patronym -${name}`,
      serve: async (port) => ({ ...(await patronym(sqlite)(port)), ablate: name }),
    });
  }
  // BENCH_BASELINE=<another checkout, with its node_modules>: that
  // version on SQLite too, to set a change beside the code before it.
  const baseline = process.env.BENCH_BASELINE;
  if (baseline) rows.push({ name: 'patronym baseline', serve: patronym(sqlite), bench: join(baseline, 'bench') });
  if (postgresUrl) {
    const postgres = async () => ({ store: { kind: 'postgres', url: await postgresUrl() } }) as Partial<ConfigInput>;
    rows.push(
      { name: 'patronym postgres', serve: patronym(postgres) },
      { name: 'patronym postgres +100k', serve: patronym(postgres), prefill: PREFILL },
    );
    if (baseline) {
      rows.push({ name: 'patronym baseline postgres', serve: patronym(postgres), bench: join(baseline, 'bench') });
    }
  }
  return rows;
}

// BENCH_STEPS=1: one line per step of the sign-in, one column per provider
// (CPU ms per sign-in at concurrency 1), each beside bare's difference.
export function formatSteps(measured: readonly Measured[]): string {
  const rows = measured.filter((m) => m.steps);
  const bare = rows.find((m) => m.name.startsWith('bare'));
  if (rows.length === 0) return '';
  const width = Math.max(...rows.map((m) => m.name.length), 16) + 2;
  const names = [...STEPS.map(([, name]) => name), 'between requests'];
  const ms = (m: Measured, name: string) => m.steps?.find((s) => s.name === name)?.ms ?? 0;
  const cell = (m: Measured, name: string) => {
    const own = ms(m, name);
    if (!bare || m === bare) return own.toFixed(2).padStart(width);
    const d = own - ms(bare, name);
    return `${own.toFixed(2)} (${d >= 0 ? '+' : ''}${d.toFixed(2)})`.padStart(width);
  };
  const total = (m: Measured) => (m.steps ?? []).reduce((sum, s) => sum + s.ms, 0);
  const lines = [
    `${'step'.padEnd(28)}${rows.map((m) => m.name.padStart(width)).join('')}`,
    ...names.map((name) => `${name.padEnd(28)}${rows.map((m) => cell(m, name)).join('')}`),
    `${'all'.padEnd(28)}${rows
      .map((m) => {
        const own = total(m);
        if (!bare || m === bare) return own.toFixed(2).padStart(width);
        const d = own - total(bare);
        return `${own.toFixed(2)} (${d >= 0 ? '+' : ''}${d.toFixed(2)})`.padStart(width);
      })
      .join('')}`,
  ];
  return `${lines.join('\n')}\n`;
}
