// The connection pool: a few persistent connections per server, each
// carrying one request at a time, kept alive while idle and replaced after
// errors.
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Sip2Authenticator } from '../../../../src/auth/sip2/sip2-authenticator.ts';
import { SIP2_CARDS, type Sip2Simulator, startSip2Server } from '../../../support/sip2-server.ts';
import { authenticatorFor, eventually, LOGIN, type Sip2Input } from './helpers.ts';

let sim: Sip2Simulator;
const made: Sip2Authenticator[] = [];
beforeAll(async () => {
  sim = await startSip2Server({ dialect: 'evergreen', login: LOGIN });
});
afterEach(async () => {
  sim.setMisbehaviour(undefined);
  await Promise.all(made.splice(0).map((a) => a.close()));
  await eventually(() => sim.connections === 0);
});
afterAll(() => sim.stop());

function make(extra: Partial<Sip2Input>): Sip2Authenticator {
  const a = authenticatorFor(sim, { stableIdField: 'XI', ...extra });
  made.push(a);
  return a;
}

const CASES = [
  [SIP2_CARDS.active, 'ok:p-0001'],
  [SIP2_CARDS.wrongPin, 'denied:bad-credentials'],
  [SIP2_CARDS.otherActive, 'ok:p-0002'],
  [SIP2_CARDS.unknownCard, 'denied:unknown-card'],
] as const;

describe('sip2 connection pool', () => {
  it('answers 32 concurrent logins correctly over 4 connections, one request per connection at a time', async () => {
    const a = make({ poolSize: 4, timeout: 2 });
    sim.setMisbehaviour({ kind: 'slow', ms: 5 });
    const before = { accepted: sim.accepted, overlapped: sim.overlapped };
    for (let round = 0; round < 2; round++) {
      const attempts = Array.from({ length: 32 }, (_, i) => CASES[i % CASES.length] ?? CASES[0]);
      const results = await Promise.all(attempts.map(([credentials]) => a.authenticate(credentials)));
      const got = results.map((r) =>
        r.kind === 'ok' ? `ok:${r.patron.stableId}` : r.kind === 'denied' ? `denied:${r.reason}` : r.cause,
      );
      expect(got).toEqual(attempts.map(([, expected]) => expected));
    }
    // Both rounds shared the same four connections.
    expect(sim.accepted - before.accepted).toBe(4);
    expect(sim.overlapped).toBe(before.overlapped);
  });

  it('bounds the wait for a busy pool (connectTimeout + timeout)', async () => {
    const a = make({ poolSize: 1, connectTimeout: 0.1, timeout: 1 });
    expect((await a.authenticate(SIP2_CARDS.active)).kind).toBe('ok');
    // Each reply takes 0.7 s: the second request waits 0.7 s for the one
    // connection, the third would wait 1.4 s and gives up after 1.1 s.
    sim.setMisbehaviour({ kind: 'slow', ms: 700 });
    const results = await Promise.all(Array.from({ length: 3 }, () => a.authenticate(SIP2_CARDS.active)));
    expect(results.map((r) => (r.kind === 'unavailable' ? r.cause : r.kind))).toEqual([
      'ok',
      'ok',
      `sip2: 127.0.0.1:${sim.port} no free connection within 1.1 s (all 1 busy)`,
    ]);
  });

  it('while a server does not answer, one request probes it and the rest move on at once', async () => {
    // Accepts TCP but never answers the TLS handshake: each try costs the
    // whole connect timeout.
    const mute = net.createServer(() => {});
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
    const mutePort = (mute.address() as net.AddressInfo).port;
    try {
      const a = make({
        poolSize: 4,
        connectTimeout: 0.4,
        servers: [
          { host: '127.0.0.1', port: mutePort, tls: {} },
          { host: '127.0.0.1', port: sim.port, allowInsecure: true },
        ],
      });
      expect((await a.authenticate(SIP2_CARDS.active)).kind).toBe('ok');
      const started = performance.now();
      const took = await Promise.all(
        Array.from({ length: 8 }, async () => {
          const result = await a.authenticate(SIP2_CARDS.active);
          expect(result.kind).toBe('ok');
          return performance.now() - started;
        }),
      );
      // One waited for the probe's timeout; the other seven did not.
      expect(took.filter((ms) => ms >= 400)).toHaveLength(1);
    } finally {
      mute.close();
    }
  });

  it('keeps idle connections alive with 99', async () => {
    const a = make({ poolSize: 2, keepAlive: 0.05 });
    await Promise.all([a.authenticate(SIP2_CARDS.active), a.authenticate(SIP2_CARDS.otherActive)]);
    const accepted = sim.accepted;
    const from = sim.received.length;
    await eventually(() => sim.received.slice(from).filter((m) => m.code === '99').length >= 4);
    expect(sim.accepted).toBe(accepted);
    expect((await a.authenticate(SIP2_CARDS.active)).kind).toBe('ok');
    expect(sim.accepted).toBe(accepted);
  });

  it('closes idle connections instead when SC status is off', async () => {
    const a = make({ poolSize: 2, keepAlive: 0.05, scStatus: false });
    await Promise.all([a.authenticate(SIP2_CARDS.active), a.authenticate(SIP2_CARDS.otherActive)]);
    expect(sim.connections).toBe(2);
    await eventually(() => sim.connections === 0);
    expect((await a.authenticate(SIP2_CARDS.active)).kind).toBe('ok');
  });

  it('drops a connection whose keep-alive fails and opens a new one on demand', async () => {
    const a = make({ poolSize: 1, keepAlive: 0.05 });
    expect((await a.authenticate(SIP2_CARDS.active)).kind).toBe('ok');
    expect(sim.connections).toBe(1);
    sim.setMisbehaviour({ kind: 'garbage', on: ['99'], times: 1 });
    await eventually(() => sim.connections === 0);
    expect((await a.authenticate(SIP2_CARDS.active)).kind).toBe('ok');
  });

  it('sends a 35 end session after each check when asked, without the PIN', async () => {
    const a = make({ endSession: true });
    const from = sim.received.length;
    expect((await a.authenticate(SIP2_CARDS.active)).kind).toBe('ok');
    const received = sim.received.slice(from);
    expect(received.map((m) => m.code)).toEqual(['93', '99', '63', '35']);
    expect(received.at(-1)?.fields.has('AD')).toBe(false);
    expect(received.at(-1)?.fields.get('AA')).toBe(SIP2_CARDS.active.card);
  });

  it('answers unavailable once closed, and closes its connections', async () => {
    const a = make({});
    expect((await a.authenticate(SIP2_CARDS.active)).kind).toBe('ok');
    expect(sim.connections).toBe(1);
    await a.close();
    await eventually(() => sim.connections === 0);
    expect(await a.authenticate(SIP2_CARDS.active)).toEqual({
      kind: 'unavailable',
      cause: `sip2: 127.0.0.1:${sim.port} authenticator closed`,
    });
  });
});
