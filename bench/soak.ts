// `npm run bench soak`: memory and disk over time. `node src/main.ts` (the
// LDAP scenario, SQLite, its sweeps every SOAK_SWEEP seconds) under a
// steady load of whole sign-ins at concurrency 4 (random patrons, a fresh
// cookie jar each, the generator in its own process) for SOAK_MINUTES
// (default 30); every minute one line: sign-ins and failures in that
// minute, the broker's resident memory now and its peak, the SQLite files'
// size, and the records in them (live and expired, not yet swept), and
// from bench/mem-probe.ts (loaded into the broker) V8's heap used and
// committed and the memory outside it. SOAK_SNAPSHOTS=0,3,15 has the broker
// write V8 heap snapshots after those minutes (0: before any load) into
// SOAK_PROBE (a folder that is kept; bench/heap-summary.ts compares them);
// SOAK_NODE_OPTIONS adds V8 flags to the broker's (e.g.
// --max-semi-space-size=4), PATRONYM_MEM_PROBE_V8_FLAGS those Node refuses
// there (e.g. --heap-growing-percent=50; the probe sets them). Bounded in time; loopback only.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { ConfigInput } from '../src/config/schema.ts';
import { removeDir } from '../test/support/broker.ts';
import { freePort } from '../test/support/slapd.ts';
import { driveLoad, serveMain, stopServed } from './compare.ts';
import { cpuMs, peakRssMiB } from './procs.ts';
import { scenarios } from './scenarios.ts';

const MINUTES = Number(process.env.SOAK_MINUTES ?? 30);
const SWEEP_SECONDS = Number(process.env.SOAK_SWEEP ?? 300);
const CONCURRENCY = 4;
const SNAPSHOTS = (process.env.SOAK_SNAPSHOTS ?? '')
  .split(',')
  .filter((m) => m.trim() !== '')
  .map(Number);

// The probe's last line: V8 heap used and committed, memory outside it.
function probed(dir: string): { heapUsed: number; heapTotal: number; outside: number } {
  const file = join(dir, 'memory.jsonl');
  if (!existsSync(file)) return { heapUsed: 0, heapTotal: 0, outside: 0 };
  const last = JSON.parse(readFileSync(file, 'utf8').trim().split('\n').at(-1) as string) as {
    rss: number;
    heapUsed: number;
    heapTotal: number;
  };
  return { heapUsed: last.heapUsed, heapTotal: last.heapTotal, outside: last.rss - last.heapTotal };
}

// Asks the probe for a sample now (SIGUSR2 also writes a heap snapshot, so
// a plain sample waits for the probe's own minute tick instead).
async function snapshot(pid: number, dir: string): Promise<void> {
  const file = join(dir, 'memory.jsonl');
  const before = existsSync(file) ? readFileSync(file, 'utf8').length : 0;
  process.kill(pid, 'SIGUSR2');
  // A snapshot of a few hundred MiB takes seconds; wait for its line.
  for (let i = 0; i < 600; i++) {
    await new Promise((r) => setTimeout(r, 500));
    if (existsSync(file) && readFileSync(file, 'utf8').slice(before).includes('"event":"snapshot"')) return;
  }
}

const rssMiB = (pid: number): number => {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : 0;
};

const fileMiB = (path: string): number =>
  [path, `${path}-wal`, `${path}-shm`].reduce((sum, f) => sum + (existsSync(f) ? statSync(f).size : 0), 0) / 2 ** 20;

// Live and expired records, read through a read-only handle of its own.
function records(path: string): { live: number; expired: number } {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const row = db
      .prepare<[number, number], { live: number; expired: number }>(
        `SELECT sum(expires_at IS NULL OR expires_at > ?) AS live, sum(expires_at <= ?) AS expired FROM records`,
      )
      .get(Date.now(), Date.now());
    return { live: row?.live ?? 0, expired: row?.expired ?? 0 };
  } finally {
    db.close();
  }
}

// What the store holds at the end, by model: records (live, expired), the
// bytes of a row's values and the longest lifetime left, and the file's
// pages by table and index (SQLite's dbstat): what the README's
// steady-state size per 10,000 sign-ins a day is derived from.
function census(path: string): string {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const now = Date.now();
    const models = db
      .prepare<[number, number], { model: string; n: number; expired: number; bytes: number; hours: number | null }>(
        `SELECT model, count(*) AS n, sum(expires_at <= ?) AS expired,
                avg(length(model) + length(id) + length(payload) + coalesce(length(grant_id), 0)
                    + coalesce(length(uid), 0) + coalesce(length(account_id), 0) + 8) AS bytes,
                max(expires_at - ?) / 3600000.0 AS hours
         FROM records GROUP BY model ORDER BY n DESC`,
      )
      .all(now, now);
    const pages = db
      .prepare<[], { name: string; bytes: number }>(
        'SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC',
      )
      .all();
    return [
      'store by model: model, records, expired, bytes of values per record, longest lifetime left (h)',
      ...models.map(
        (m) =>
          `  ${m.model.padEnd(24)} ${String(m.n).padStart(8)} ${String(m.expired).padStart(8)} ${m.bytes.toFixed(0).padStart(6)} ${(m.hours ?? 0).toFixed(1).padStart(8)}`,
      ),
      `store pages (MiB): ${pages.map((p) => `${p.name} ${(p.bytes / 2 ** 20).toFixed(1)}`).join(', ')}`,
    ].join('\n');
  } finally {
    db.close();
  }
}

const shuffled = <T>(list: readonly T[]): T[] => {
  const copy = [...list];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
};

export async function soak(): Promise<void> {
  const setup = await (scenarios.ldap as NonNullable<typeof scenarios.ldap>)();
  const dir = mkdtempSync(join(tmpdir(), 'patronym-bench-soak-'));
  const port = await freePort();
  const store = join(dir, 'patronym.sqlite');
  const config = {
    ...(setup.config as ConfigInput),
    issuer: `http://127.0.0.1:${port}`,
    host: '127.0.0.1',
    port,
    store: { kind: 'sqlite', path: store },
    keys: { dir: join(dir, 'keys') },
    log: { level: 'warn' },
    sweepInterval: SWEEP_SECONDS,
    throttle: { address: { lockAfter: 100_000, window: 900, lock: 900 } },
    realms: [{ id: 'springfield', scope: 'springfield.example.org' }],
    clients: [
      {
        client_id: 'demo-vendor',
        client_secret: 'demo-vendor-secret',
        redirect_uris: ['http://localhost:3001/callback'],
      },
    ],
  } as ConfigInput;
  const probe = process.env.SOAK_PROBE ?? join(dir, 'probe');
  mkdirSync(probe, { recursive: true });
  // serveMain spawns the broker with process.env before its first await;
  // the probe's settings are put back at once so the load generator (also
  // spawned with process.env) runs without them.
  const saved = {
    NODE_OPTIONS: process.env.NODE_OPTIONS,
    PATRONYM_MEM_PROBE: process.env.PATRONYM_MEM_PROBE,
    PATRONYM_MEM_PROBE_SECONDS: process.env.PATRONYM_MEM_PROBE_SECONDS,
  };
  process.env.NODE_OPTIONS =
    `${saved.NODE_OPTIONS ?? ''} ${process.env.SOAK_NODE_OPTIONS ?? ''} --import ${join(import.meta.dirname, 'mem-probe.ts')}`.trim();
  process.env.PATRONYM_MEM_PROBE = probe;
  process.env.PATRONYM_MEM_PROBE_SECONDS = '15';
  const starting = serveMain({ kind: 'main', port, config }, dir);
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  const served = await starting;
  const pid = served.child.pid as number;
  if (SNAPSHOTS.includes(0)) await snapshot(pid, probe);
  process.stdout.write(
    `\nSoak: main.ts, LDAP scenario, SQLite, concurrency ${CONCURRENCY}, ${MINUTES} min, sweeps every ${SWEEP_SECONDS} s${[
      process.env.SOAK_NODE_OPTIONS,
      process.env.PATRONYM_MEM_PROBE_V8_FLAGS,
    ]
      .filter(Boolean)
      .map((f) => `, ${f}`)
      .join('')}\n` +
      'minute  sign-ins  fails  per s  CPU ms/sign-in  RSS MiB  peak MiB  heap used  heap total  outside heap  store MiB  live records  expired records\n',
  );
  let total = 0;
  let failures = 0;
  try {
    for (let minute = 1; minute <= MINUTES; minute++) {
      const cpu = cpuMs(pid);
      const r = await driveLoad(
        {
          origins: [served.origin],
          issuer: served.origin,
          client: { id: 'demo-vendor', secret: 'demo-vendor-secret', redirect: 'http://localhost:3001/callback' },
          cards: shuffled(setup.cards),
          concurrency: CONCURRENCY,
          count: 1_000_000,
          seconds: 60,
        },
        dir,
      );
      total += r.logins;
      failures += r.failures;
      const n = records(store);
      const heap = probed(probe);
      process.stdout.write(
        `${[
          String(minute).padStart(6),
          String(r.logins).padStart(9),
          String(r.failures).padStart(6),
          r.perSecond.toFixed(1).padStart(6),
          ((cpuMs(pid) - cpu) / (r.logins || 1)).toFixed(2).padStart(15),
          rssMiB(pid).toFixed(0).padStart(8),
          peakRssMiB(pid).toFixed(0).padStart(9),
          heap.heapUsed.toFixed(0).padStart(10),
          heap.heapTotal.toFixed(0).padStart(11),
          heap.outside.toFixed(0).padStart(13),
          fileMiB(store).toFixed(1).padStart(10),
          String(n.live).padStart(13),
          String(n.expired).padStart(16),
        ].join(' ')}${r.firstFailure ? `  (first failure: ${r.firstFailure})` : ''}\n`,
      );
      if (SNAPSHOTS.includes(minute)) await snapshot(pid, probe);
    }
    process.stdout.write(`soak: ${total} sign-ins, ${failures} failures\n${census(store)}\n`);
  } finally {
    await stopServed(served);
    removeDir(dir);
    await setup.teardown?.();
  }
}
