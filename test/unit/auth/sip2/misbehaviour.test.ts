// Every way the simulator can misbehave, and what the authenticator makes of
// it: recover where the protocol allows, otherwise `unavailable` with a cause
// naming the server — never a wrong answer, never a throw.
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AuthResult } from '../../../../src/auth/authenticator.ts';
import type { Sip2Authenticator } from '../../../../src/auth/sip2/sip2-authenticator.ts';
import { SIP2_CARDS, type Sip2Simulator, startSip2Server } from '../../../support/sip2-server.ts';
import { authenticatorFor, LOGIN, type Sip2Input } from './helpers.ts';

let sim: Sip2Simulator;
let label: string;
const made: Sip2Authenticator[] = [];

beforeAll(async () => {
  sim = await startSip2Server({ dialect: 'koha', login: LOGIN });
  label = `sip2: 127.0.0.1:${sim.port}`;
});
afterEach(async () => {
  sim.setMisbehaviour(undefined);
  await Promise.all(made.splice(0).map((a) => a.close()));
});
afterAll(() => sim.stop());

function make(extra: Partial<Sip2Input> = {}, target: Sip2Simulator | Sip2Simulator[] = sim): Sip2Authenticator {
  const a = authenticatorFor(target, { timeout: 0.3, ...extra });
  made.push(a);
  return a;
}

const codes = (from: number) => sim.received.slice(from).map((m) => m.code);

// The right answer for the fixture cards, or `unavailable`; anything else
// (above all a wrong `ok`) is a failure.
function rightOrUnavailable(card: keyof typeof SIP2_CARDS, result: AuthResult): boolean {
  if (result.kind === 'unavailable') return true;
  if (card === 'active' || card === 'otherActive')
    return result.kind === 'ok' && result.patron.stableId === SIP2_CARDS[card].card;
  return result.kind === 'denied' && result.reason === (card === 'wrongPin' ? 'bad-credentials' : 'unknown-card');
}

describe('sip2 misbehaviour: checksums', () => {
  it('asks for a damaged reply again with 97 and uses the good copy', async () => {
    const a = make();
    sim.setMisbehaviour({ kind: 'bad-checksum', times: 1 });
    const from = sim.received.length;
    expect((await a.authenticate(SIP2_CARDS.active)).kind).toBe('ok');
    expect(codes(from)).toEqual(['93', '99', '63', '97']);
  });

  it('gives up after `retries` with a cause naming the server', async () => {
    const a = make();
    sim.setMisbehaviour({ kind: 'bad-checksum' });
    expect(await a.authenticate(SIP2_CARDS.active)).toEqual({
      kind: 'unavailable',
      cause: `${label} reply checksum bad twice`,
    });
    const none = make({ retries: 0 });
    expect(await none.authenticate(SIP2_CARDS.active)).toEqual({
      kind: 'unavailable',
      cause: `${label} reply checksum bad once`,
    });
  });

  it('treats a reply without checksum as damaged while error detection is on', async () => {
    const a = make();
    sim.setMisbehaviour({
      kind: 'garbage',
      bytes: Buffer.from(`64${' '.repeat(57)}AOsim|AA21234000000001|BLY|CQY|\r`),
    });
    expect(await a.authenticate(SIP2_CARDS.active)).toEqual({
      kind: 'unavailable',
      cause: `${label} reply without checksum twice (is error detection off on the server?)`,
    });
  });

  it('answers 96 by resending, bounded', async () => {
    const a = make();
    sim.setMisbehaviour({ kind: 'resend', times: 1 });
    const from = sim.received.length;
    expect((await a.authenticate(SIP2_CARDS.active)).kind).toBe('ok');
    expect(codes(from)).toEqual(['93', '99', '63', '63']);
    sim.setMisbehaviour({ kind: 'resend' });
    expect(await a.authenticate(SIP2_CARDS.active)).toEqual({
      kind: 'unavailable',
      cause: `${label} server asked twice to resend 63`,
    });
  });
});

describe('sip2 misbehaviour: framing', () => {
  it('joins a reply split across TCP packets', async () => {
    const a = make();
    sim.setMisbehaviour({ kind: 'split', gapMs: 20 });
    expect((await a.authenticate(SIP2_CARDS.active)).kind).toBe('ok');
    expect(await a.authenticate(SIP2_CARDS.wrongPin)).toMatchObject({ reason: 'bad-credentials' });
  });

  it('two replies in one packet (a duplicate): answers right and replaces the out-of-step connection', async () => {
    const a = make({ poolSize: 1 });
    expect((await a.authenticate(SIP2_CARDS.active)).kind).toBe('ok');
    const before = sim.accepted;
    sim.setMisbehaviour({ kind: 'two-in-one', order: 'duplicate' });
    expect((await a.authenticate(SIP2_CARDS.otherActive)).kind).toBe('ok');
    sim.setMisbehaviour(undefined);
    expect(await a.authenticate(SIP2_CARDS.wrongPin)).toMatchObject({ reason: 'bad-credentials' });
    expect(sim.accepted).toBe(before + 1);
  });

  it('two replies in one packet (a stale one first): the sequence number picks the right one', async () => {
    const a = make({ poolSize: 1 });
    sim.setMisbehaviour({ kind: 'two-in-one', order: 'stale-first' });
    for (const card of ['active', 'wrongPin', 'otherActive', 'unknownCard', 'active', 'wrongPin'] as const) {
      expect(rightOrUnavailable(card, await a.authenticate(SIP2_CARDS[card])), card).toBe(true);
      expect((await a.authenticate(SIP2_CARDS[card])).kind, card).not.toBe('unavailable');
    }
  });

  it('without error detection a stale reply is never taken for another patron', async () => {
    const a = make({ poolSize: 1, errorDetection: false });
    sim.setMisbehaviour({ kind: 'two-in-one', order: 'stale-first' });
    for (const card of ['active', 'wrongPin', 'otherActive', 'unknownCard', 'wrongPin', 'active'] as const) {
      expect(rightOrUnavailable(card, await a.authenticate(SIP2_CARDS[card])), card).toBe(true);
    }
  });

  it('refuses an endless reply without CR', async () => {
    const a = make();
    sim.setMisbehaviour({ kind: 'garbage', bytes: Buffer.alloc(70_000, 0x41) });
    expect(await a.authenticate(SIP2_CARDS.active)).toEqual({
      kind: 'unavailable',
      cause: `${label} sent more than 64 KiB without a CR`,
    });
  });

  it('reports garbage bytes as an unreadable reply', async () => {
    const a = make();
    sim.setMisbehaviour({ kind: 'garbage' });
    expect(await a.authenticate(SIP2_CARDS.active)).toEqual({
      kind: 'unavailable',
      cause: `${label} unreadable reply to 63 (no message code)`,
    });
  });

  it('refuses a reply about another patron, unless told not to check', async () => {
    const other = Buffer.from(
      `64${' '.repeat(14)}00120250101    000000${'0'.repeat(24)}AOsim|AA21234000000002|BLY|CQY|\r`,
    );
    const a = make({ errorDetection: false });
    sim.setMisbehaviour({ kind: 'garbage', bytes: other });
    expect(await a.authenticate(SIP2_CARDS.active)).toEqual({
      kind: 'unavailable',
      cause: `${label} reply to 63 names another patron (AA differs from the card sent, even with case, accents and width folded; BL=Y, so nobody was signed in)`,
    });
    const trusting = make({ errorDetection: false, verifyPatronId: false });
    expect(await trusting.authenticate(SIP2_CARDS.active)).toMatchObject({
      kind: 'ok',
      patron: { stableId: '21234000000002' },
    });
  });
});

describe('sip2 misbehaviour: time and connections', () => {
  it('waits for a slow reply within the timeout', async () => {
    const a = make();
    sim.setMisbehaviour({ kind: 'slow', ms: 100 });
    expect((await a.authenticate(SIP2_CARDS.active)).kind).toBe('ok');
  });

  it('times out a slower one, and never reads the late reply as the next answer', async () => {
    const a = make({ poolSize: 1 });
    sim.setMisbehaviour({ kind: 'slow', ms: 500, times: 1 });
    expect(await a.authenticate(SIP2_CARDS.active)).toEqual({
      kind: 'unavailable',
      cause: `${label} no reply to 63 within 0.3 s`,
    });
    expect(await a.authenticate(SIP2_CARDS.wrongPin)).toMatchObject({ reason: 'bad-credentials' });
    await new Promise((r) => setTimeout(r, 300));
    expect(await a.authenticate(SIP2_CARDS.wrongPin)).toMatchObject({ reason: 'bad-credentials' });
  });

  it('times out a server that never answers', async () => {
    const a = make();
    sim.setMisbehaviour({ kind: 'silent', on: ['99'] });
    expect(await a.authenticate(SIP2_CARDS.active)).toEqual({
      kind: 'unavailable',
      cause: `${label} no reply to 99 within 0.3 s`,
    });
  });

  it('retries a pooled connection the server dropped, but not a fresh one', async () => {
    const a = make({ poolSize: 1 });
    expect((await a.authenticate(SIP2_CARDS.active)).kind).toBe('ok');
    sim.setMisbehaviour({ kind: 'drop', times: 1 });
    expect((await a.authenticate(SIP2_CARDS.active)).kind).toBe('ok');
    sim.setMisbehaviour({ kind: 'drop' });
    expect(await a.authenticate(SIP2_CARDS.active)).toEqual({
      kind: 'unavailable',
      cause: `${label} connection closed before the reply to 63`,
    });
  });

  it('reconnects after the server restarted and closed every connection', async () => {
    const a = make();
    expect((await a.authenticate(SIP2_CARDS.active)).kind).toBe('ok');
    sim.dropConnections();
    await new Promise((r) => setTimeout(r, 20));
    expect((await a.authenticate(SIP2_CARDS.active)).kind).toBe('ok');
  });

  it('reports a connection dropped during login', async () => {
    const a = make();
    sim.setMisbehaviour({ kind: 'drop', on: ['93'] });
    expect(await a.authenticate(SIP2_CARDS.active)).toEqual({
      kind: 'unavailable',
      cause: `${label} connection closed before the reply to 93`,
    });
  });
});

describe('sip2 misbehaviour: configuration errors are outages, never wrong PINs', () => {
  it('reports a refused 93 login for the sysadmin', async () => {
    const a = make({ login: { user: 'broker', password: 'wrong' } });
    expect(await a.authenticate(SIP2_CARDS.active)).toEqual({
      kind: 'unavailable',
      cause: `${label} login as "broker" refused (94 "0"): check login.user and login.password`,
    });
  });

  it('reports a server that closes on messages before a login the broker never sent', async () => {
    const b = make({ login: undefined });
    expect(await b.authenticate(SIP2_CARDS.active)).toEqual({
      kind: 'unavailable',
      cause: `${label} connection closed before the reply to 99 (no login is configured: does the server want a 93 login first?)`,
    });
  });
});

describe('sip2 misbehaviour: several servers', () => {
  let deadPort: number;
  beforeAll(async () => {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    deadPort = (s.address() as net.AddressInfo).port;
    await new Promise((r) => s.close(r));
  });
  const dead = (port: number) => ({ host: '127.0.0.1', port, stop: async () => {} }) as unknown as Sip2Simulator;

  it('tries the servers in order', async () => {
    const a = make({}, [dead(deadPort), sim]);
    expect((await a.authenticate(SIP2_CARDS.active)).kind).toBe('ok');
    expect(await a.authenticate(SIP2_CARDS.wrongPin)).toMatchObject({ reason: 'bad-credentials' });
  });

  it('moves on from a server that talks garbage', async () => {
    const bad = await startSip2Server({ login: LOGIN });
    bad.setMisbehaviour({ kind: 'garbage' });
    try {
      const a = make({}, [bad, sim]);
      expect((await a.authenticate(SIP2_CARDS.active)).kind).toBe('ok');
    } finally {
      await bad.stop();
    }
  });

  it('names every server that failed', async () => {
    const a = make({}, [dead(deadPort), dead(deadPort)]);
    expect(await a.authenticate(SIP2_CARDS.active)).toEqual({
      kind: 'unavailable',
      cause: `sip2: 127.0.0.1:${deadPort} connection refused; sip2: 127.0.0.1:${deadPort} connection refused`,
    });
  });

  it('bounds the connect and TLS handshake time', async () => {
    const mute = net.createServer(() => {});
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
    const port = (mute.address() as net.AddressInfo).port;
    try {
      const a = make({ connectTimeout: 0.2, servers: [{ host: '127.0.0.1', port, tls: {} }] });
      expect(await a.authenticate(SIP2_CARDS.active)).toEqual({
        kind: 'unavailable',
        cause: `sip2: 127.0.0.1:${port} (tls) no connection within 0.2 s`,
      });
    } finally {
      mute.close();
    }
  });
});
