// One and two broker processes (`node src/main.ts`) on one PostgreSQL, the
// LDAP scenario behind them, the load split between them sign-in by
// sign-in as a balancer would. Per row: sign-ins/s, latency percentiles,
// peak RSS of each instance, and the CPU time per sign-in of the brokers,
// PostgreSQL, slapd and the load generator, to say what limits the rate.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadKeys } from '../src/security/keys.ts';
import { formField, removeDir } from '../test/support/broker.ts';
import type { Postgres } from '../test/support/postgres.ts';
import { freePort, generatePatrons, startSlapd } from '../test/support/slapd.ts';
import { type LoadResult, percentile } from './login-load.ts';
import { cpuMs, familyCpuMs, peakRssMiB, postmasterPid } from './procs.ts';
import { browserWalk } from './walk.ts';

const REDIRECT = 'http://localhost:3001/callback';
const SECRET = 'demo-vendor-secret';

interface Instance {
  origin: string;
  child: ChildProcess;
}

async function spawnInstance(configPath: string, port: number): Promise<Instance> {
  const child = spawn(process.execPath, ['src/main.ts'], {
    env: { ...process.env, PATRONYM_CONFIG: configPath, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d) => {
    output += d;
  });
  child.stderr?.on('data', (d) => {
    output += d;
  });
  // Started when /healthz answers (the start line is at info level; the
  // bench logs warnings only).
  const origin = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300 && child.exitCode === null; i++) {
    if (
      await fetch(`${origin}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return { origin, child };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`bench: broker did not start: ${output}`);
}

// One whole sign-in on one instance: authorize, form, redirects, token.
// The ID token is not verified here (openid-client's check costs the load
// generator CPU the comparison does not need).
async function signIn(origin: string, card: string, pin: string): Promise<void> {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const query = new URLSearchParams({
    client_id: 'demo-vendor',
    response_type: 'code',
    redirect_uri: REDIRECT,
    scope: 'openid',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: randomBytes(8).toString('base64url'),
  });
  const walk = browserWalk(origin, REDIRECT);
  const page = await walk(`${origin}/auth?${query}`);
  const action = /action="([^"]+)"/.exec(page.body)?.[1];
  if (!action) throw new Error('no form');
  const done = await walk(`${origin}${action}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf: formField(page.body, 'csrf') ?? '', card, pin }).toString(),
  });
  if (!done.code) throw new Error('no code');
  const token = await fetch(`${origin}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`demo-vendor:${SECRET}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: done.code,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
    }).toString(),
  });
  const body = (await token.json()) as { id_token?: string };
  if (!body.id_token) throw new Error(`token ${token.status}`);
}

let firstFailure = '';

async function load(
  origins: readonly string[],
  cards: readonly { card: string; pin: string }[],
  concurrency: number,
  limits: { count: number; seconds: number },
): Promise<LoadResult> {
  const latencies: number[] = [];
  let failures = 0;
  let issued = 0;
  const deadline = performance.now() + limits.seconds * 1000;
  const started = performance.now();
  const worker = async () => {
    while (issued < limits.count && performance.now() < deadline) {
      const n = issued++;
      const { card, pin } = cards[n % cards.length] as { card: string; pin: string };
      const t0 = performance.now();
      try {
        await signIn(origins[n % origins.length] as string, card, pin);
        latencies.push(performance.now() - t0);
      } catch (error) {
        failures++;
        firstFailure ||= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    concurrency,
    logins: latencies.length,
    failures,
    seconds,
    perSecond: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
  };
}

export async function instancesBench(pg: Postgres, limits: { count: number; seconds: number }): Promise<void> {
  const slapd = await startSlapd({ generate: 1000 });
  const dir = mkdtempSync(join(tmpdir(), 'patronym-bench-instances-'));
  const cards = generatePatrons(1000).map((p) => ({ card: p.uid, pin: p.pin }));
  const slapdPid = Number(readFileSync(join(slapd.dir, 'slapd.pid'), 'utf8').trim());
  const pgPid = postmasterPid(join(pg.dir, 'data'));
  process.stdout.write(
    '\nOne and two broker processes on one PostgreSQL (ldap scenario, load split per sign-in; ' +
      'CPU ms per sign-in by process group)\n' +
      'inst conc  logins fails  logins/s  p50 ms   p95 ms   p99 ms  peak RSS MiB      broker  postgres  slapd  loadgen\n',
  );
  try {
    writeFileSync(join(dir, 'service-password'), `${slapd.servicePassword}\n`, { mode: 0o600 });
    await loadKeys(join(dir, 'keys'), {}, {});
    for (const n of [1, 2]) {
      const url = await pg.createDatabase();
      const ports = await Promise.all(Array.from({ length: n }, () => freePort()));
      const config = {
        issuer: `http://127.0.0.1:${ports[0]}`,
        host: '127.0.0.1',
        store: { kind: 'postgres', url, poolSize: 10 },
        keys: { dir: join(dir, 'keys') },
        log: { level: 'warn' },
        // The load comes from one address but stands for many patrons: the
        // per-address bound (30 PIN checks in flight) would refuse some at
        // concurrency 32.
        throttle: { address: { lockAfter: 10_000, window: 900, lock: 900 } },
        realms: [{ id: 'springfield', scope: 'springfield.example.org' }],
        libraries: [
          {
            id: 'springfield',
            name: 'Springfield Public Library',
            authenticators: [
              {
                kind: 'ldap',
                urls: [slapd.url],
                allowInsecure: true,
                bindDn: slapd.serviceDn,
                bindPassword: { file: join(dir, 'service-password') },
                baseDn: slapd.patronsDn,
                filter: '(uid={card})',
              },
            ],
          },
        ],
        clients: [{ client_id: 'demo-vendor', client_secret: SECRET, redirect_uris: [REDIRECT] }],
      };
      writeFileSync(join(dir, 'config.yaml'), stringify(config));
      const instances: Instance[] = [];
      for (const port of ports) instances.push(await spawnInstance(join(dir, 'config.yaml'), port));
      const origins = instances.map((i) => i.origin);
      try {
        await load(origins, cards, 4, { count: 40, seconds: 10 }); // warm-up
        for (const concurrency of [8, 32]) {
          const pids = instances.map((i) => i.child.pid as number);
          const before = {
            broker: pids.reduce((s, p) => s + cpuMs(p), 0),
            pg: familyCpuMs(pgPid),
            slapd: cpuMs(slapdPid),
            self: process.cpuUsage(),
          };
          const r = await load(origins, cards, concurrency, limits);
          const self = process.cpuUsage(before.self);
          const per = (ms: number) => (r.logins ? ms / r.logins : 0).toFixed(1);
          const row = [
            String(n).padStart(4),
            String(concurrency).padStart(4),
            String(r.logins).padStart(7),
            String(r.failures).padStart(5),
            r.perSecond.toFixed(1).padStart(9),
            r.p50.toFixed(1).padStart(8),
            r.p95.toFixed(1).padStart(8),
            r.p99.toFixed(1).padStart(8),
            pids
              .map((p) => peakRssMiB(p).toFixed(0))
              .join(' / ')
              .padStart(13),
            per(pids.reduce((s, p) => s + cpuMs(p), 0) - before.broker).padStart(11),
            per(familyCpuMs(pgPid) - before.pg).padStart(9),
            per(cpuMs(slapdPid) - before.slapd).padStart(6),
            per((self.user + self.system) / 1000).padStart(8),
          ];
          process.stdout.write(`${row.join(' ')}${r.failures ? `  (first failure: ${firstFailure})` : ''}\n`);
        }
      } finally {
        for (const i of instances) {
          i.child.kill('SIGTERM');
          await new Promise((r) => i.child.once('exit', r));
        }
      }
    }
  } finally {
    await slapd.dispose();
    removeDir(dir);
  }
}
