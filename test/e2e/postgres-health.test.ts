// What a load balancer sees: /healthz (the process answers), /readyz (the
// store and each library's backends answered recently, from cached checks,
// never a backend call per probe) and a graceful SIGTERM that finishes the
// requests in flight. Against a real PostgreSQL, stopped and started again.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticatorKinds } from '../../src/auth/registry.ts';
import { writeDemoPatrons } from '../../src/cli/commands/demo.ts';
import { loadConfigFile } from '../../src/config/load.ts';
import { createLogger } from '../../src/log.ts';
import { loadKeys } from '../../src/security/keys.ts';
import { type BrokerServer, createBrokerServer } from '../../src/server.ts';
import { openStore } from '../../src/store/registry.ts';
import type { Store } from '../../src/store/store.ts';
import { removeDir } from '../support/broker.ts';
import { type Postgres, postgresAvailable, startPostgres } from '../support/postgres.ts';
import { freePort } from '../support/slapd.ts';

const available = postgresAvailable();

const configFor = (dir: string, port: number, url: string) => `issuer: http://127.0.0.1:${port}
host: 127.0.0.1
port: ${port}
store: { kind: postgres, url: "${url}" }
keys: { dir: ${join(dir, 'keys')} }
realms: [{ id: springfield, scope: springfield.example.org }]
libraries:
  - { id: springfield, name: Springfield Public Library, authenticators: [{ kind: file, path: ${join(dir, 'patrons.yaml')} }] }
clients: [{ client_id: v, client_secret: s, redirect_uris: [http://127.0.0.1:9/cb] }]
`;

async function until(check: () => Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe.runIf(available)('health for load balancers', () => {
  let server: Postgres;
  let dir: string;
  beforeAll(async () => {
    server = await startPostgres();
    dir = mkdtempSync(join(tmpdir(), 'patronym-health-'));
    const keys = await loadKeys(join(dir, 'keys'), {}, {});
    await writeDemoPatrons(join(dir, 'patrons.yaml'), keys.pinPepper);
  }, 60_000);
  afterAll(async () => {
    await server?.dispose();
    if (dir) removeDir(dir);
  });

  describe('in one process', () => {
    let running: BrokerServer;
    let store: Store;
    let origin: string;
    beforeAll(async () => {
      const port = await freePort();
      const url = await server.createDatabase();
      writeFileSync(join(dir, 'inproc.yaml'), configFor(dir, port, url));
      const config = loadConfigFile(join(dir, 'inproc.yaml'), { kinds: authenticatorKinds, env: {} });
      const keys = await loadKeys(config.keys.dir, config.keys, {});
      store = openStore(config.store);
      const sink = new Writable({ write: (_c, _e, done) => done() });
      running = createBrokerServer({
        configPath: join(dir, 'inproc.yaml'),
        config,
        keys,
        store,
        log: createLogger('info', sink),
        env: {},
        readiness: { interval: 100, fresh: 400, timeout: 1_000 },
      });
      await new Promise<void>((resolve) => running.server.listen(port, '127.0.0.1', resolve));
      origin = `http://127.0.0.1:${port}`;
    });
    afterAll(async () => {
      running.server.closeAllConnections();
      await running.close();
      await store.close();
    });

    const readyz = async () => {
      const response = await fetch(`${origin}/readyz`);
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };

    it('is ready from the first probe when everything answers', async () => {
      expect(await readyz()).toEqual({
        status: 200,
        body: { ready: true, store: true, libraries: { springfield: true } },
      });
      const health = await fetch(`${origin}/healthz`);
      expect(health.status).toBe(200);
    });

    it('is not ready while the database is down, and ready again once it is back', async () => {
      await server.stop({ crash: true });
      try {
        await until(async () => (await readyz()).status === 503, 'not ready');
        expect((await readyz()).body).toMatchObject({ ready: false, store: false });
        // The process itself still answers.
        expect((await fetch(`${origin}/healthz`)).status).toBe(200);
      } finally {
        await server.start();
      }
      await until(async () => (await readyz()).status === 200, 'ready again');
    });

    it('names the library whose backends stopped answering', async () => {
      const patrons = join(dir, 'patrons.yaml');
      renameSync(patrons, `${patrons}.away`);
      try {
        await until(async () => (await readyz()).status === 503, 'not ready');
        expect((await readyz()).body).toEqual({ ready: false, store: true, libraries: { springfield: false } });
      } finally {
        renameSync(`${patrons}.away`, patrons);
      }
      await until(async () => (await readyz()).status === 200, 'ready again');
    });
  });

  describe('as a process', () => {
    let child: ChildProcess;
    let port: number;
    let database: string;
    const output: string[] = [];
    beforeAll(async () => {
      port = await freePort();
      const url = await server.createDatabase();
      database = new URL(url).pathname.slice(1);
      writeFileSync(join(dir, 'process.yaml'), configFor(dir, port, url));
      child = spawn(process.execPath, ['src/main.ts'], {
        env: { ...process.env, PATRONYM_CONFIG: join(dir, 'process.yaml') },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout?.on('data', (d) => output.push(String(d)));
      child.stderr?.on('data', (d) => output.push(String(d)));
      await until(async () => output.join('').includes('"event":"start"'), 'start');
    }, 30_000);
    afterAll(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });

    it('answers 50 probes from its cache: the database sees a handful of queries, not 50', async () => {
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
      const commits = async () =>
        Number(
          (
            await server.query<{ n: string }>(
              'postgres',
              'SELECT xact_commit AS n FROM pg_stat_database WHERE datname = $1',
              [database],
            )
          )[0]?.n,
        );
      // Statistics are flushed by each backend at most once a second.
      await new Promise((r) => setTimeout(r, 1_500));
      const before = await commits();
      for (let i = 0; i < 50; i++) expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
      await new Promise((r) => setTimeout(r, 1_500));
      expect((await commits()) - before).toBeLessThan(10);
    });

    it('on SIGTERM refuses new connections, finishes the request in flight, closes and exits 0', async () => {
      // A request whose body is still arriving when the signal comes.
      const socket = connect(port, '127.0.0.1');
      await new Promise((r) => socket.once('connect', r));
      let reply = '';
      socket.on('data', (d) => {
        reply += String(d);
      });
      const closed = new Promise((r) => socket.once('close', r));
      const body = 'grant_type=authorization_code&code=nothing&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb';
      socket.write(
        `POST /token HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Basic ${Buffer.from('v:s').toString('base64')}\r\n` +
          `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
      );
      await new Promise((r) => setTimeout(r, 200));
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      await until(async () => output.join('').includes('"event":"stop"'), 'stop');
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
      socket.write(body.slice(10));
      await closed;
      expect(reply).toMatch(/^HTTP\/1\.1 400 /);
      expect(reply).toContain('invalid_grant');
      expect(await exited).toBe(0);
      expect(output.join('')).toContain('"event":"stopped"');
    }, 30_000);
  });
});
