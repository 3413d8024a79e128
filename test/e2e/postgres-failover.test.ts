// Two broker processes (`node src/main.ts`, as a sysadmin runs them) on one
// PostgreSQL behind a balancer: one is killed with SIGKILL in the middle of
// a burst of sign-ins, and the other finishes every one of them, because
// every interaction, session and code is in the shared database.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDemoPatrons } from '../../src/cli/commands/demo.ts';
import { loadKeys } from '../../src/security/keys.ts';
import { CookieJar, formField, removeDir } from '../support/broker.ts';
import { type Postgres, postgresAvailable, startPostgres } from '../support/postgres.ts';
import { freePort } from '../support/slapd.ts';

const available = postgresAvailable();
const PATRONS = [
  { card: '21234000000001', pin: '1234' },
  { card: '21234000000002', pin: '2345' },
];
const REDIRECT = 'http://localhost:3001/callback';
const SECRET = 'demo-vendor-secret';

interface Instance {
  origin: string;
  child: ChildProcess;
  output: string[];
  alive: boolean;
}

async function spawnBroker(configPath: string, port: number): Promise<Instance> {
  const child = spawn(process.execPath, ['src/main.ts'], {
    env: { ...process.env, PATRONYM_CONFIG: configPath, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const instance: Instance = { origin: `http://127.0.0.1:${port}`, child, output: [], alive: true };
  child.stdout?.on('data', (d) => instance.output.push(String(d)));
  child.stderr?.on('data', (d) => instance.output.push(String(d)));
  for (let i = 0; i < 200 && !instance.output.join('').includes('"event":"start"'); i++) {
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!instance.output.join('').includes('"event":"start"')) {
    throw new Error(`broker did not start: ${instance.output.join('')}`);
  }
  return instance;
}

// Round robin over the live instances, as a balancer does. A request that
// could not reach its instance (refused) goes to the next; one cut while in
// flight is retried only when it is a GET, as nginx and HAProxy retry
// (a POST might have been applied), otherwise the browser sees the error.
class Balancer {
  #next = 0;
  requests = 0;
  retried = 0;
  inFlight = new Map<string, number>();
  readonly instances: Instance[];
  readonly onRequest: (n: number) => void;
  constructor(instances: Instance[], onRequest: (n: number) => void) {
    this.instances = instances;
    this.onRequest = onRequest;
  }

  async fetch(jar: CookieJar, url: string, init: RequestInit = {}): Promise<{ response: Response; origin: string }> {
    const path = new URL(url);
    for (let tries = 0; tries < this.instances.length * 2; tries++) {
      const live = this.instances.filter((i) => i.alive);
      const target = live[this.#next++ % live.length] as Instance;
      this.onRequest(++this.requests);
      this.inFlight.set(target.origin, (this.inFlight.get(target.origin) ?? 0) + 1);
      try {
        const response = await fetch(`${target.origin}${path.pathname}${path.search}`, {
          ...init,
          redirect: 'manual',
          headers: { ...(init.headers as Record<string, string>), cookie: jar.header() },
        });
        jar.store(response);
        return { response, origin: target.origin };
      } catch (error) {
        target.alive = target.child.exitCode === null && target.child.signalCode === null;
        const refused = (error as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED';
        if (!refused && init.method === 'POST') throw error;
        this.retried++;
      } finally {
        this.inFlight.set(target.origin, (this.inFlight.get(target.origin) ?? 1) - 1);
      }
    }
    throw new Error(`no instance answered ${path.pathname}`);
  }
}

describe.runIf(available)('two broker processes on one PostgreSQL, one killed mid-burst', () => {
  let server: Postgres;
  let dir: string;
  const instances: Instance[] = [];

  beforeAll(async () => {
    server = await startPostgres();
    const url = await server.createDatabase();
    dir = mkdtempSync(join(tmpdir(), 'patronym-failover-'));
    // Both instances share the keys (generated once, before either starts).
    const keys = await loadKeys(join(dir, 'keys'), {}, {});
    await writeDemoPatrons(join(dir, 'patrons.yaml'), keys.pinPepper);
    // A port found free can be taken by another test process before the
    // broker binds it (seen with two suites on one machine): then both start
    // again on new ports.
    for (let attempt = 1; ; attempt++) {
      try {
        await startBoth(url);
        break;
      } catch (error) {
        for (const i of instances.splice(0)) i.child.kill('SIGKILL');
        if (attempt >= 3 || !String(error).includes('EADDRINUSE')) throw error;
      }
    }
  }, 90_000);

  async function startBoth(url: string): Promise<void> {
    const [portA, portB] = [await freePort(), await freePort()];
    const config = `issuer: http://127.0.0.1:${portA}
host: 127.0.0.1
store: { kind: postgres, url: "${url}", poolSize: 5 }
keys: { dir: ${join(dir, 'keys')} }
log: { level: info }
throttle:
  card: { delayAfter: 1000, lockAfter: 1000, window: 900, lock: 900 }
  address: { lockAfter: 1000, window: 900, lock: 900 }
realms: [{ id: springfield, scope: springfield.example.org }]
libraries:
  - { id: springfield, name: Springfield Public Library, cardPatterns: ['21234'], authenticators: [{ kind: file, path: ${join(dir, 'patrons.yaml')} }] }
clients: [{ client_id: demo-vendor, client_secret: ${SECRET}, redirect_uris: [${REDIRECT}] }]
`;
    writeFileSync(join(dir, 'config.yaml'), config);
    // One after the other only to keep start-up logs apart; the schema is
    // created under an advisory lock either way.
    instances.push(await spawnBroker(join(dir, 'config.yaml'), portA));
    instances.push(await spawnBroker(join(dir, 'config.yaml'), portB));
  }

  afterAll(async () => {
    for (const i of instances) {
      if (i.child.exitCode === null && i.child.signalCode === null) {
        i.child.kill('SIGTERM');
        await new Promise((r) => i.child.once('exit', r));
      }
    }
    await server?.dispose();
    if (dir) removeDir(dir);
  });

  it('the survivor completes every sign-in of the burst, nothing lost', async () => {
    const [a, b] = instances as [Instance, Instance];
    const N = 24;
    let killed = false;
    let inFlightAtKill = 0;
    const balancer = new Balancer(instances, (n) => {
      // Well inside the burst: every sign-in has started by then.
      if (n === 3 * N && !killed) {
        killed = true;
        inFlightAtKill = balancer.inFlight.get(a.origin) ?? 0;
        a.child.kill('SIGKILL');
        a.alive = false;
      }
    });

    // One sign-in as the browser and the vendor make it; throws where a
    // patron would see an error.
    const attempt = async (i: number) => {
      const patron = PATRONS[i % 2] as (typeof PATRONS)[number];
      const jar = new CookieJar();
      const verifier = oidc.randomPKCECodeVerifier();
      const authorize = new URL(`${a.origin}/auth`);
      authorize.search = new URLSearchParams({
        client_id: 'demo-vendor',
        response_type: 'code',
        redirect_uri: REDIRECT,
        scope: 'openid',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state: `s${i}`,
      }).toString();
      let begunOn = '';
      const walk = async (url: string, init?: RequestInit) => {
        let { response, origin } = await balancer.fetch(jar, url, init);
        begunOn ||= origin;
        let current = url;
        for (let hop = 0; hop < 12 && response.status >= 300 && response.status < 400; hop++) {
          const location = new URL(response.headers.get('location') ?? '', a.origin).href;
          await response.arrayBuffer();
          if (location.startsWith(REDIRECT)) return { location, body: '' };
          current = location;
          ({ response } = await balancer.fetch(jar, current));
        }
        return { location: current, body: await response.text() };
      };
      const page = await walk(authorize.href);
      const action = /action="([^"]+)"/.exec(page.body)?.[1];
      if (!action) throw new Error(`sign-in ${i}: no form`);
      const done = await walk(new URL(action, a.origin).href, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ csrf: formField(page.body, 'csrf') ?? '', ...patron }).toString(),
      });
      if (!done.location.startsWith(REDIRECT)) {
        const text = done.body.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
        throw new Error(`sign-in ${i}: no code (${text.slice(0, 300)})`);
      }
      const { response: token } = await balancer.fetch(jar, `${a.origin}/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`demo-vendor:${SECRET}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: new URL(done.location).searchParams.get('code') ?? '',
          redirect_uri: REDIRECT,
          code_verifier: verifier,
        }).toString(),
      });
      const body = (await token.json()) as { id_token?: string };
      if (!body.id_token) throw new Error(`sign-in ${i}: token ${token.status} ${JSON.stringify(body)}`);
      const claims = JSON.parse(Buffer.from(body.id_token.split('.')[1] ?? '', 'base64url').toString());
      return { patron: patron.card, sub: claims.sub as string, begunOn, crossed: begunOn === a.origin && killed };
    };
    // A patron whose request was cut in flight sees an error and starts
    // again; that may happen only to requests A held when it died.
    let restarts = 0;
    const signIn = async (i: number) => {
      try {
        return await attempt(i);
      } catch {
        restarts++;
        return attempt(i);
      }
    };

    const results = await Promise.allSettled(Array.from({ length: N }, (_, i) => signIn(i)));
    const failed = results.filter((r) => r.status === 'rejected').map((r) => String(r.reason));
    expect(failed).toEqual([]);
    expect(killed).toBe(true);
    expect(a.child.signalCode).toBe('SIGKILL');
    expect(b.child.exitCode).toBeNull();
    expect(restarts).toBeLessThanOrEqual(inFlightAtKill);
    const done = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    // Sign-ins begun on the instance that died, finished by the other from
    // the shared database.
    expect(done.filter((r) => r.crossed).length).toBeGreaterThan(0);
    // One pseudonym per patron, whichever instance finished the sign-in.
    const subs = new Map<string, Set<string>>();
    for (const r of done) subs.set(r.patron, (subs.get(r.patron) ?? new Set()).add(r.sub));
    expect([...subs.values()].map((s) => s.size)).toEqual([1, 1]);
  }, 120_000);
});
