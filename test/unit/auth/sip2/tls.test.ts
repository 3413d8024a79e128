// SIP2 over TLS with a CA generated for the test run: verification on by
// default, a CA file, an optional client certificate, and every way
// verification can fail reported as `unavailable`.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sip2OptionsSchema } from '../../../../src/auth/sip2/options.ts';
import { Sip2Authenticator } from '../../../../src/auth/sip2/sip2-authenticator.ts';
import { authenticatorSuite } from '../../../conformance/authenticator.suite.ts';
import { SIP2_CARDS, type Sip2Simulator, startSip2Server } from '../../../support/sip2-server.ts';
import { DIALECT_OPTIONS, LOGIN } from './helpers.ts';

const haveOpenssl = spawnSync('openssl', ['version']).status === 0;
if (!haveOpenssl) {
  // STYLE.md: a missing binary may skip locally, never under CI.
  if (process.env.CI === 'true') throw new Error('sip2 tls tests: openssl is required under CI');
  console.warn('sip2 tls tests SKIPPED: openssl not found');
}

const dir = mkdtempSync(join(tmpdir(), 'patronym-sip2-tls-'));
const file = (name: string) => join(dir, name);

// A CA, a server certificate for 127.0.0.1/localhost, a client certificate,
// and a second CA nobody trusts. EC keys: fast to make.
function makePki(): void {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  for (const ca of ['ca', 'rogue'])
    ssl('req', '-x509', ...key, '-keyout', `${ca}.key`, '-out', `${ca}.pem`, '-days', '2', '-subj', `/CN=${ca}`);
  writeFileSync(file('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  writeFileSync(file('client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [name, signer] of [
    ['server', 'ca'],
    ['client', 'ca'],
    ['rogue-server', 'rogue'],
  ] as const) {
    ssl('req', ...key, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    const ext = name === 'client' ? 'client.ext' : 'server.ext';
    ssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${signer}.pem`,
      '-CAkey',
      `${signer}.key`,
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      '-extfile',
      ext,
    );
  }
}

const pem = (name: string) => readFileSync(file(name));

describe.skipIf(!haveOpenssl)('sip2 over TLS', () => {
  let sim: Sip2Simulator;
  let mutual: Sip2Simulator;
  let rogue: Sip2Simulator;
  const made: Sip2Authenticator[] = [];

  beforeAll(async () => {
    makePki();
    sim = await startSip2Server({ login: LOGIN, tls: { key: pem('server.key'), cert: pem('server.pem') } });
    mutual = await startSip2Server({
      login: LOGIN,
      tls: {
        key: pem('server.key'),
        cert: pem('server.pem'),
        ca: pem('ca.pem'),
        requestCert: true,
        rejectUnauthorized: true,
      },
    });
    rogue = await startSip2Server({
      login: LOGIN,
      tls: { key: pem('rogue-server.key'), cert: pem('rogue-server.pem') },
    });
  });
  afterAll(async () => {
    await Promise.all(made.map((a) => a.close()));
    await Promise.all([sim?.stop(), mutual?.stop(), rogue?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  function make(target: Sip2Simulator, tls: Record<string, unknown>, warn?: (m: string) => void): Sip2Authenticator {
    const options = sip2OptionsSchema.parse({
      ...DIALECT_OPTIONS.koha,
      servers: [{ host: '127.0.0.1', port: target.port, tls }],
      login: LOGIN,
      timeout: 1,
    });
    const a = new Sip2Authenticator('tls-test', options, warn ? { warn } : {});
    made.push(a);
    return a;
  }

  it('verifies the server against the configured CA', async () => {
    const a = make(sim, { ca: file('ca.pem') });
    expect(await a.authenticate(SIP2_CARDS.active)).toMatchObject({ kind: 'ok' });
    expect(await a.authenticate(SIP2_CARDS.wrongPin)).toMatchObject({ reason: 'bad-credentials' });
    expect(await a.check()).toMatch(/^sip2 127\.0\.0\.1:\d+ \(tls\): on-line/);
  });

  it.each([
    ['no CA configured (system CAs only)', () => ({})],
    ['a server signed by another CA', () => ({ ca: file('ca.pem') })],
    ['a name the certificate does not carry', () => ({ ca: file('ca.pem'), servername: 'ils.example.org' })],
  ])('refuses %s as unavailable', async (name, tls) => {
    const target = name.startsWith('a server signed') ? rogue : sim;
    const result = await make(target, tls()).authenticate(SIP2_CARDS.active);
    expect(result.kind).toBe('unavailable');
    if (result.kind === 'unavailable') {
      expect(result.cause).toMatch(
        new RegExp(
          `^sip2: 127\\.0\\.0\\.1:${target.port} \\(tls\\) tls: server certificate not accepted \\([A-Z_]+\\)$`,
        ),
      );
    }
  });

  it('connects without verification only when told, and warns', async () => {
    const warnings: string[] = [];
    const a = make(rogue, { rejectUnauthorized: false }, (m) => warnings.push(m));
    expect((await a.authenticate(SIP2_CARDS.active)).kind).toBe('ok');
    expect(warnings).toEqual([
      `sip2: "tls-test" does not verify the certificate of 127.0.0.1:${rogue.port} (tls.rejectUnauthorized false)`,
    ]);
  });

  it('presents a client certificate to a server that requires one', async () => {
    const a = make(mutual, { ca: file('ca.pem'), cert: file('client.pem'), key: file('client.key') });
    expect((await a.authenticate(SIP2_CARDS.active)).kind).toBe('ok');
    const without = await make(mutual, { ca: file('ca.pem') }).authenticate(SIP2_CARDS.active);
    expect(without).toEqual({
      kind: 'unavailable',
      cause: `sip2: 127.0.0.1:${mutual.port} (tls) connection closed before the reply to 93 (ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED)`,
    });
  });

  authenticatorSuite('sip2 over TLS', async () => {
    const authenticator = make(sim, { ca: file('ca.pem') });
    return {
      authenticator,
      fixture: SIP2_CARDS,
      unreachable: async () => make(rogue, { ca: file('ca.pem') }),
    };
  });
});
