// `npm run bench soak`: memory and disk over time. `node src/main.ts` (the
// LDAP scenario, SQLite, its sweeps every SOAK_SWEEP seconds) under a
// steady load of whole sign-ins at concurrency 4 (random patrons, a fresh
// cookie jar each, the generator in its own process) for SOAK_MINUTES
// (default 30); every minute one line: sign-ins and failures in that
// minute, the broker's resident memory now and its peak, the SQLite files'
// size, and the records in them (live and expired, not yet swept).
// Bounded in time; loopback only.
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
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
  const served = await serveMain({ kind: 'main', port, config }, dir);
  const pid = served.child.pid as number;
  process.stdout.write(
    `\nSoak: main.ts, LDAP scenario, SQLite, concurrency ${CONCURRENCY}, ${MINUTES} min, sweeps every ${SWEEP_SECONDS} s\n` +
      'minute  sign-ins  fails  per s  CPU ms/sign-in  RSS MiB  peak MiB  store MiB  live records  expired records\n',
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
      process.stdout.write(
        `${[
          String(minute).padStart(6),
          String(r.logins).padStart(9),
          String(r.failures).padStart(6),
          r.perSecond.toFixed(1).padStart(6),
          ((cpuMs(pid) - cpu) / (r.logins || 1)).toFixed(2).padStart(15),
          rssMiB(pid).toFixed(0).padStart(8),
          peakRssMiB(pid).toFixed(0).padStart(9),
          fileMiB(store).toFixed(1).padStart(10),
          String(n.live).padStart(13),
          String(n.expired).padStart(16),
        ].join(' ')}${r.firstFailure ? `  (first failure: ${r.firstFailure})` : ''}\n`,
      );
    }
    process.stdout.write(`soak: ${total} sign-ins, ${failures} failures\n`);
  } finally {
    await stopServed(served);
    removeDir(dir);
    await setup.teardown?.();
  }
}
