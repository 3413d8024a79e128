// When the directory misbehaves: dead and silent servers, failover, a
// server restarted under a running broker, timeouts. Every case is an
// outage with a cause for the sysadmin, never a wrong PIN, and nothing hangs.
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connector } from '../../../src/auth/ldap/pool.ts';
import { FIXTURE_PATRONS, freePort, type Slapd, slapdAvailable, startSlapd } from '../../support/slapd.ts';
import { build, FIXTURE, LOCKED } from './harness.ts';

describe.skipIf(!slapdAvailable())('ldap when the directory misbehaves', () => {
  let slapd: Slapd;
  let silent: Server;
  let silentPort: number;
  let deadPort: number;
  const sockets = new Set<Socket>();
  beforeAll(async () => {
    // Without ppolicy_use_lockout the server's control says nothing; the
    // lock is only in pwdAccountLockedTime.
    slapd = await startSlapd({ patrons: FIXTURE_PATRONS, ppolicyUseLockout: false });
    // Accepts connections and never says a word.
    silent = createServer((s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    silentPort = (silent.address() as { port: number }).port;
    deadPort = await freePort();
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => silent?.close(resolve));
    await slapd?.dispose();
  });

  it('tries the URLs in order: a dead first server, a live second one', async () => {
    const { authenticator } = build(slapd, { urls: [`ldap://127.0.0.1:${deadPort}`, slapd.url] });
    try {
      expect((await authenticator.authenticate(FIXTURE.active)).kind).toBe('ok');
      expect((await authenticator.authenticate(FIXTURE.wrongPin)).kind).toBe('denied');
    } finally {
      await authenticator.close();
    }
  });

  it('names every server and why when none answers', async () => {
    const { authenticator } = build(slapd, {
      urls: [`ldap://127.0.0.1:${deadPort}`, `ldaps://127.0.0.1:${silentPort}`],
      connectTimeout: 0.3,
    });
    try {
      const started = performance.now();
      expect(await authenticator.authenticate(FIXTURE.active)).toEqual({
        kind: 'unavailable',
        cause: `ldap: ldap://127.0.0.1:${deadPort} connect refused (ECONNREFUSED); ldaps://127.0.0.1:${silentPort} connect timed out after 0.3s`,
      });
      expect(performance.now() - started).toBeLessThan(2000);
    } finally {
      await authenticator.close();
    }
  });

  it('gives up on an operation the server never answers', async () => {
    const { authenticator } = build(slapd, { urls: [`ldap://127.0.0.1:${silentPort}`], timeout: 0.3 });
    try {
      expect(await authenticator.authenticate(FIXTURE.active)).toEqual({
        kind: 'unavailable',
        cause: `ldap: ldap://127.0.0.1:${silentPort} bind timed out after 0.3s`,
      });
    } finally {
      await authenticator.close();
    }
  });

  it('skips a server that just failed when opening the next connection', async () => {
    const { authenticator } = build(slapd, { urls: [`ldaps://127.0.0.1:${silentPort}`] });
    await authenticator.close();
    const target = (server: string, port: number, secure: boolean) => ({
      server,
      secure,
      host: '127.0.0.1',
      port,
      startTls: false,
      tls: {},
      connectTimeoutMs: 300,
      timeoutMs: 1000,
    });
    const connector = new Connector([
      target(`ldaps://127.0.0.1:${silentPort}`, silentPort, true),
      target(slapd.url, slapd.port, false),
    ]);
    let t = performance.now();
    const first = await connector.open();
    expect(performance.now() - t).toBeGreaterThanOrEqual(290);
    t = performance.now();
    const second = await connector.open();
    expect(performance.now() - t).toBeLessThan(250);
    expect([first.server, second.server]).toEqual([slapd.url, slapd.url]);
    first.destroy();
    second.destroy();
  });

  it('survives the server being stopped and started under it: outage, then the same authenticator recovers', async () => {
    const { authenticator } = build(slapd);
    try {
      expect((await authenticator.authenticate(FIXTURE.active)).kind).toBe('ok');
      expect(authenticator.connectionsOpened).toBe(2);
      await slapd.stop(); // a clean shutdown, as a sysadmin's restart does
      const down = await authenticator.authenticate(FIXTURE.active);
      expect(down).toEqual({ kind: 'unavailable', cause: `ldap: ${slapd.url} connect refused (ECONNREFUSED)` });
      expect((await authenticator.authenticate(FIXTURE.wrongPin)).kind).toBe('unavailable');
      await slapd.start();
      expect((await authenticator.authenticate(FIXTURE.active)).kind).toBe('ok');
      // The service account's connection and a bind connection were opened anew.
      expect(authenticator.connectionsOpened).toBe(4);
    } finally {
      await authenticator.close();
    }
  });

  it('recovers when the server restarted between two logins (stale pooled connections)', async () => {
    const { authenticator } = build(slapd);
    try {
      expect((await authenticator.authenticate(FIXTURE.active)).kind).toBe('ok');
      await slapd.restart({ crash: true });
      // No outage seen by the patron: the dead connections are replaced.
      expect((await authenticator.authenticate(FIXTURE.active)).kind).toBe('ok');
      expect((await authenticator.authenticate(FIXTURE.otherActive)).kind).toBe('ok');
    } finally {
      await authenticator.close();
    }
  });

  it('reads a lock from pwdAccountLockedTime when the policy control says nothing', async () => {
    const { authenticator } = build(slapd);
    try {
      for (const pin of [LOCKED.pin, '0000']) {
        expect(await authenticator.authenticate({ card: LOCKED.card, pin })).toEqual({
          kind: 'denied',
          reason: 'blocked',
          detail: 'account locked (pwdAccountLockedTime)',
        });
      }
    } finally {
      await authenticator.close();
    }
  });
});
