// What issue 13 found when the authenticator met a real SIP2 server
// (Evergreen's SIPServer), one simulator quirk per finding: recovery after a
// damaged reply, cards the server does not echo faithfully, idle timeouts,
// a 96 during login, and causes the log must name truly.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sip2OptionsSchema } from '../../../../src/auth/sip2/options.ts';
import type { Sip2Authenticator } from '../../../../src/auth/sip2/sip2-authenticator.ts';
import { SIP2_CARDS, SIP2_PATRONS, type Sip2Simulator, startSip2Server } from '../../../support/sip2-server.ts';
import { authenticatorFor, eventually, LOGIN, type Sip2Input, sleep } from './helpers.ts';

// A patron whose card is not ASCII (Koha lets patrons type a user name).
const JORG = { card: 'jörg', pin: '2468' };
const MULLER = { card: 'müller', pin: '2468' };
const PATRONS = [...SIP2_PATRONS, { card: JORG.card, pin: JORG.pin, id: 'p-0007', name: 'Jörg Umlaut' }];

let sim: Sip2Simulator;
let label: string;
const made: Sip2Authenticator[] = [];

beforeAll(async () => {
  sim = await startSip2Server({ dialect: 'evergreen', login: LOGIN, patrons: PATRONS });
  label = `sip2: 127.0.0.1:${sim.port}`;
});
afterEach(async () => {
  sim.setMisbehaviour(undefined);
  sim.setQuirks({});
  await Promise.all(made.splice(0).map((a) => a.close()));
});
afterAll(() => sim.stop());

function make(extra: Partial<Sip2Input> = {}): Sip2Authenticator {
  const a = authenticatorFor(sim, { stableIdField: 'XI', timeout: 0.5, ...extra });
  made.push(a);
  return a;
}

const codes = (from: number) => sim.received.slice(from).map((m) => m.code);

describe('finding 1: a server that re-sends with AY0 after a 97', () => {
  it('recovers every damaged reply, whatever the sequence number of the request', async () => {
    const a = make({ poolSize: 1 });
    sim.setQuirks({ resendWithSeqZero: true });
    sim.setMisbehaviour({ kind: 'bad-checksum', cleanResends: true });
    const from = sim.received.length;
    // Twelve sign-ins on one connection walk AY through 0–9 and wrap.
    for (let i = 0; i < 12; i++) {
      const card = i % 2 === 0 ? SIP2_CARDS.active : SIP2_CARDS.wrongPin;
      const result = await a.authenticate(card);
      expect(result.kind === 'ok' ? 'ok' : result.kind === 'denied' ? result.reason : result.cause, `#${i}`).toBe(
        i % 2 === 0 ? 'ok' : 'bad-credentials',
      );
    }
    expect(codes(from).filter((c) => c === '97')).toHaveLength(12);
    expect(sim.accepted).toBeGreaterThan(0);
  });
});

describe('finding 2: cards the server does not echo faithfully', () => {
  it('an ASCII account: a known accented card (echoed "jorg") signs in, an unknown one is unknown-card', async () => {
    const a = make({ poolSize: 1 });
    sim.setQuirks({ echo: 'ascii' });
    expect(await a.authenticate(JORG)).toMatchObject({ kind: 'ok', patron: { stableId: 'p-0007' } });
    const before = sim.accepted;
    expect(await a.authenticate(MULLER)).toEqual({ kind: 'denied', reason: 'unknown-card', detail: 'BL=N' });
    expect(await a.authenticate({ ...JORG, pin: '0000' })).toMatchObject({ reason: 'bad-credentials' });
    // The pooled connection was kept: nothing was wrong with it.
    expect(sim.accepted).toBe(before);
  });

  it('a UTF-8 account that double-encodes unknown cards: unknown-card, not an outage', async () => {
    const a = make({ poolSize: 1 });
    sim.setQuirks({ echo: 'double-encoded' });
    const before = sim.accepted;
    expect(await a.authenticate(MULLER)).toMatchObject({ kind: 'denied', reason: 'unknown-card' });
    expect(await a.authenticate(JORG)).toMatchObject({ kind: 'ok', patron: { stableId: 'p-0007' } });
    expect(sim.accepted).toBe(before + 1);
  });

  it('a BL=Y reply naming another card stays a refusal, with a log line that says why', async () => {
    const a = make({ poolSize: 1, errorDetection: false });
    const other = `64${' '.repeat(14)}00120250101    000000${'0'.repeat(24)}AOsim|AA21234000000002|BLY|CQY|XIp-0002|\r`;
    sim.setMisbehaviour({ kind: 'garbage', bytes: Buffer.from(other) });
    expect(await a.authenticate(SIP2_CARDS.active)).toEqual({
      kind: 'unavailable',
      cause: `${label} reply to 63 names another patron (AA differs from the card sent, even with case, accents and width folded; BL=Y, so nobody was signed in)`,
    });
  });
});

describe('finding 3: idle timeouts', () => {
  it('keepAlive defaults well below common server idle timeouts (60 s)', () => {
    const o = sip2OptionsSchema.parse({ servers: [{ host: 'h', allowInsecure: true }] });
    expect(o.keepAlive).toBe(25);
  });

  it('a keepAlive below the server idle timeout keeps the idle connection in use', async () => {
    sim.setQuirks({ idleTimeoutMs: 600 });
    const a = make({ poolSize: 1, keepAlive: 0.25 });
    expect((await a.authenticate(SIP2_CARDS.active)).kind).toBe('ok');
    const before = sim.accepted;
    await sleep(1500);
    expect((await a.authenticate(SIP2_CARDS.active)).kind).toBe('ok');
    expect(sim.accepted).toBe(before);
  });

  it('a keepAlive above it costs a reconnect but never a sign-in, and the sysadmin is told once', async () => {
    sim.setQuirks({ idleTimeoutMs: 200 });
    const warnings: string[] = [];
    const a = authenticatorFor(
      sim,
      { stableIdField: 'XI', poolSize: 1, keepAlive: 5 },
      { warn: (m) => warnings.push(m) },
    );
    made.push(a);
    expect((await a.authenticate(SIP2_CARDS.active)).kind).toBe('ok');
    const before = sim.accepted;
    await eventually(() => sim.connections === 0);
    expect((await a.authenticate(SIP2_CARDS.active)).kind).toBe('ok');
    expect(sim.accepted).toBe(before + 1);
    await eventually(() => sim.connections === 0);
    expect((await a.authenticate(SIP2_CARDS.active)).kind).toBe('ok');
    const idle = warnings.filter((w) => w.includes('idle'));
    expect(idle).toHaveLength(1);
    expect(idle[0]).toMatch(
      new RegExp(
        `^${label} closed a connection idle for [0-9.]+ s, before the keep-alive \\(keepAlive 5 s\\): set keepAlive below the server's idle timeout$`,
      ),
    );
  });
});

describe('finding 5: login, timing and causes', () => {
  it('a 96 to the 93 login (after which the server closes) opens a new connection instead', async () => {
    const a = make({ poolSize: 1 });
    sim.setMisbehaviour({ kind: 'resend', close: true, on: ['93'], times: 1 });
    const from = sim.received.length;
    const before = sim.accepted;
    expect((await a.authenticate(SIP2_CARDS.active)).kind).toBe('ok');
    expect(codes(from).slice(0, 4)).toEqual(['93', '93', '99', '63']);
    expect(sim.accepted).toBe(before + 2);
  });

  it('a sign-in that fails fast while another waits for a hung server does not claim to have waited', async () => {
    const a = make({ poolSize: 2, timeout: 0.4 });
    sim.setMisbehaviour({ kind: 'silent', on: ['93'] });
    // The first attempt times out; the second tries again and hangs; the
    // third is not sent at all while the second is pending.
    expect(await a.authenticate(SIP2_CARDS.active)).toEqual({
      kind: 'unavailable',
      cause: `${label} no reply to 93 within 0.4 s`,
    });
    const logins = () => sim.received.filter((m) => m.code === '93').length;
    const before = logins();
    const second = a.authenticate(SIP2_CARDS.active);
    await eventually(() => logins() > before);
    const third = await a.authenticate(SIP2_CARDS.active);
    expect(third).toEqual({
      kind: 'unavailable',
      cause: `${label} not asked: the last attempt failed (no reply to 93 within 0.4 s) and a new one is under way`,
    });
    expect(await second).toMatchObject({ kind: 'unavailable' });
  });

  it('names an encoding mismatch behind bad checksums', async () => {
    const umlaut = [...PATRONS, { card: '21234000000077', pin: '7777', id: 'p-0077', name: 'Jörg Umlaut' }];
    const server = await startSip2Server({ login: LOGIN, patrons: umlaut, quirks: { checksumOverCharacters: true } });
    const a = authenticatorFor(server, { encoding: 'cp850', timeout: 0.5 });
    try {
      // ASCII replies check out; the one with "ö" in AE does not.
      expect((await a.authenticate(SIP2_CARDS.active)).kind).toBe('ok');
      expect(await a.authenticate({ card: '21234000000077', pin: '7777' })).toEqual({
        kind: 'unavailable',
        cause: `sip2: 127.0.0.1:${server.port} reply checksum bad twice (it matches the text read as utf-8: check encoding)`,
      });
    } finally {
      await a.close();
      await server.stop();
    }
  });

  it('names a missing login as the likely cause when the server closes before the first reply', async () => {
    const a = make({ login: undefined });
    expect(await a.authenticate(SIP2_CARDS.active)).toEqual({
      kind: 'unavailable',
      cause: `${label} connection closed before the reply to 99 (no login is configured: does the server want a 93 login first?)`,
    });
    const error = await a.check().catch((e: Error) => e);
    expect(String(error)).toContain('no login is configured: does the server want a 93 login first?');
  });
});
