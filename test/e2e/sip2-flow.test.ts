// The whole OIDC flow with a SIP2-backed library: the broker talks to the
// SIP2 simulator (Evergreen-like, with a 93 login and XI internal ids), a
// vendor signs patrons in with openid-client. The simulator keeps its last
// reply per worker and replays it to a 97 from any new connection, as
// Evergreen's SIPServer does (issue 13): outside probes check that nothing
// about a patron is left there, whatever the broker did.
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, startLogin, submitLogin, type Vendor, vendor } from '../support/broker.ts';
import { expectAbsent, expectNoPins } from '../support/leaks.ts';
import {
  patronFieldsIn,
  probeLastReply,
  SIP2_CARDS,
  SIP2_PATRONS,
  type SimPatron,
  type Sip2Simulator,
  startSip2Server,
} from '../support/sip2-server.ts';
import { useBroker } from '../support/use-broker.ts';

const WRONG = 'The card number or PIN is not right. Check both and try again.';
// A replacement card for the active patron: same ILS record, new barcode.
const REPLACEMENT = { card: '21234000000099', pin: '1234' };
// A patron who signs in with a user name that is not ASCII.
const JORG = { card: 'jörg', pin: '2468' };
const SIM_LOGIN = { user: 'patronym', password: 'sip-secret' };

const active = SIP2_PATRONS.find((p) => p.card === SIP2_CARDS.active.card) ?? (SIP2_PATRONS[0] as SimPatron);
const PATRONS: SimPatron[] = [
  ...SIP2_PATRONS,
  { ...active, card: REPLACEMENT.card },
  { card: JORG.card, pin: JORG.pin, id: 'p-0007', name: 'Jörg Umlaut', email: 'joerg@example.org' },
];
const SECRETS = PATRONS.flatMap((p) => [p.card, p.name, ...(p.email ? [p.email] : [])]);

const startSim = (port?: number) =>
  startSip2Server({
    dialect: 'evergreen',
    login: SIM_LOGIN,
    patrons: PATRONS,
    quirks: { replayToNewConnections: true },
    ...(port ? { port } : {}),
  });

describe('sign-in flow with a SIP2 library', () => {
  let sim: Sip2Simulator;
  let v: Vendor;

  // Probes every idle worker of the simulator from outside, as anyone on
  // the network could, and returns what it learnt about patrons.
  async function probeAll(): Promise<string[]> {
    await new Promise((r) => setTimeout(r, 100));
    // Nothing to probe would prove nothing.
    expect(sim.idleWorkers).toBeGreaterThan(0);
    const found: string[] = [];
    for (let i = sim.idleWorkers; i > 0; i--) {
      const reply = await probeLastReply(sim);
      found.push(...patronFieldsIn(reply), ...SECRETS.filter((secret) => reply.includes(secret)));
      if (/^(64|24|36)/.test(reply)) found.push(`a ${reply.slice(0, 2)}`);
    }
    return found;
  }

  afterAll(async () => {
    await sim?.stop();
  });
  const b = useBroker(async () => {
    sim = await startSim();
    return {
      config: {
        libraries: [
          {
            id: 'springfield',
            name: 'Springfield Public Library',
            realm: 'springfield',
            cardPatterns: ['21234'],
            authenticators: [
              {
                id: 'springfield-sip2',
                kind: 'sip2',
                servers: [{ host: '127.0.0.1', port: sim.port, allowInsecure: true }],
                login: { user: 'patronym', password: 'sip-secret' },
                stableIdField: 'XI',
                expiry: { field: 'PA' },
                blocking: { feesOverLimit: true },
                timeout: 1,
              },
            ],
          },
        ],
      },
    };
  });
  beforeAll(async () => {
    v = await vendor(b.issuer, 'demo-vendor', 'demo-vendor-secret');
  });

  it('signs an active patron in: code, tokens, a pairwise sub that keeps across a card replacement', async () => {
    const first = (await login(v, b.issuer, SIP2_CARDS.active.card, SIP2_CARDS.active.pin)).tokens.claims();
    expect(first?.sub).toMatch(/^[a-z2-7]{52}@springfield\.example\.org$/);
    expect(first?.sub).not.toContain(SIP2_CARDS.active.card);
    const again = (await login(v, b.issuer, SIP2_CARDS.active.card, SIP2_CARDS.active.pin)).tokens.claims();
    const replaced = (await login(v, b.issuer, REPLACEMENT.card, REPLACEMENT.pin)).tokens.claims();
    const other = (await login(v, b.issuer, SIP2_CARDS.otherActive.card, SIP2_CARDS.otherActive.pin)).tokens.claims();
    const v2 = await vendor(b.issuer, 'demo-vendor-2', 'demo-vendor-secret');
    const elsewhere = (await login(v2, b.issuer, SIP2_CARDS.active.card, SIP2_CARDS.active.pin)).tokens.claims();
    expect(again?.sub).toBe(first?.sub);
    expect(replaced?.sub).toBe(first?.sub);
    expect(other?.sub).not.toBe(first?.sub);
    expect(elsewhere?.sub).not.toBe(first?.sub);
  });

  it.each([
    ['wrong PIN', SIP2_CARDS.wrongPin, WRONG],
    ['unknown card', { card: '21234999999999', pin: '1234' }, WRONG],
    [
      'blocked card',
      SIP2_CARDS.blocked,
      'This card cannot be used to sign in at the moment. Please contact your library.',
    ],
    [
      'card blocked by fees',
      SIP2_CARDS.blockedByFees,
      'This card cannot be used to sign in at the moment. Please contact your library.',
    ],
    ['expired card', SIP2_CARDS.expired, 'This card has expired. Please contact your library to renew it.'],
  ])('%s: the form again with a clear message, and no code', async (_name, credentials, message) => {
    const started = await startLogin(v, b.issuer);
    const { response, body, leftFor } = await submitLogin(started, b.issuer, credentials.card, credentials.pin);
    expect(leftFor).toBeUndefined();
    expect(response.status).toBe(200);
    expect(body).toContain(message.replaceAll("'", '&#39;'));
  });

  it('warns the sysadmin at start-up that the SIP2 link is plain TCP', () => {
    const warning = b.logs.map((l) => JSON.parse(l)).find((l) => l.event === 'config_warning');
    expect(warning?.msg).toContain('over plain TCP');
  });

  it('reports a SIP2 server that stopped as "not answering", naming server and cause in the log', async () => {
    const port = sim.port;
    await sim.stop();
    try {
      const started = await startLogin(v, b.issuer);
      const { response, body, leftFor } = await submitLogin(
        started,
        b.issuer,
        SIP2_CARDS.active.card,
        SIP2_CARDS.active.pin,
      );
      expect(leftFor).toBeUndefined();
      expect(response.status).toBe(503);
      expect(body).toContain('Your library&#39;s system is not answering');
      const line = b.logs.map((l) => JSON.parse(l)).find((l) => l.outcome === 'unavailable');
      expect(line).toMatchObject({ authenticator: 'springfield-sip2', library: 'springfield' });
      expect(line.cause).toBe(`sip2: 127.0.0.1:${port} connection refused`);
    } finally {
      sim = await startSim(port);
    }
    expect((await login(v, b.issuer, SIP2_CARDS.active.card, SIP2_CARDS.active.pin)).callback).toMatch(/code=/);
  });

  it('never logs a card, a PIN or anything the ILS said about a patron', () => {
    const text = b.logs.join('');
    expectAbsent(text, [...SECRETS, 'sip-secret']);
    expectNoPins(text, ['1234', '9999', '3456', '4567', '5678', '2468']);
  });

  describe('against the quirks of a real server (issue 13)', () => {
    const lines = () => b.logs.map((l) => JSON.parse(l));

    it('recovers a damaged reply although the server re-sends it with AY0', async () => {
      sim.setQuirks({ replayToNewConnections: true, resendWithSeqZero: true });
      sim.setMisbehaviour({ kind: 'bad-checksum', cleanResends: true });
      try {
        for (let i = 0; i < 3; i++) {
          expect((await login(v, b.issuer, SIP2_CARDS.active.card, SIP2_CARDS.active.pin)).callback).toMatch(/code=/);
        }
      } finally {
        sim.setMisbehaviour(undefined);
        sim.setQuirks({ replayToNewConnections: true });
      }
    });

    it('an ASCII account that strips accents: a known accented card signs in, an unknown one is a wrong card', async () => {
      sim.setQuirks({ replayToNewConnections: true, echo: 'ascii' });
      try {
        const claims = (await login(v, b.issuer, JORG.card, JORG.pin)).tokens.claims();
        expect(claims?.sub).toMatch(/@springfield\.example\.org$/);
        const started = await startLogin(v, b.issuer);
        const { response, body } = await submitLogin(started, b.issuer, 'müller', '2468');
        expect(response.status).toBe(200);
        expect(body).toContain(WRONG);
      } finally {
        sim.setQuirks({ replayToNewConnections: true });
      }
    });

    it('a keepAlive below the server idle timeout keeps reusing the connection', async () => {
      const sip2 = {
        id: 'springfield-sip2',
        kind: 'sip2',
        servers: [{ host: '127.0.0.1', port: sim.port, allowInsecure: true }],
        login: SIM_LOGIN,
        stableIdField: 'XI',
        expiry: { field: 'PA' },
        blocking: { feesOverLimit: true },
        timeout: 1,
        poolSize: 1,
        keepAlive: 0.2,
      };
      b.writeConfig({
        libraries: [
          {
            id: 'springfield',
            name: 'Springfield Public Library',
            realm: 'springfield',
            cardPatterns: ['21234'],
            authenticators: [sip2],
          },
        ],
      } as never);
      expect(await b.reload()).toBe(true);
      // A ping every 0.2 s against an idle timeout of 1.5 s: a margin that a
      // busy CI machine's stalled event loop (chromium starting beside it)
      // does not eat, as 0.6 s once did. The wait outlasts the timeout.
      sim.setQuirks({ replayToNewConnections: true, idleTimeoutMs: 1500 });
      try {
        expect((await login(v, b.issuer, SIP2_CARDS.active.card, SIP2_CARDS.active.pin)).callback).toMatch(/code=/);
        const before = sim.accepted;
        await new Promise((r) => setTimeout(r, 2200));
        expect((await login(v, b.issuer, SIP2_CARDS.active.card, SIP2_CARDS.active.pin)).callback).toMatch(/code=/);
        expect(sim.accepted).toBe(before);
      } finally {
        sim.setQuirks({ replayToNewConnections: true });
      }
    });

    it('a 96 to the login, after which the server closes: the sign-in still succeeds', async () => {
      sim.dropConnections();
      sim.setMisbehaviour({ kind: 'resend', close: true, on: ['93'], times: 1 });
      const from = sim.received.length;
      expect((await login(v, b.issuer, SIP2_CARDS.active.card, SIP2_CARDS.active.pin)).callback).toMatch(/code=/);
      expect(sim.received.slice(from, from + 2).map((m) => m.code)).toEqual(['93', '93']);
    });

    it('an outside probe learns nothing after a reload closed the old connections', async () => {
      expect((await login(v, b.issuer, SIP2_CARDS.active.card, SIP2_CARDS.active.pin)).callback).toMatch(/code=/);
      const wrong = await submitLogin(await startLogin(v, b.issuer), b.issuer, JORG.card, '0000');
      expect(wrong.body).toContain(WRONG);
      expect(await b.reload()).toBe(true);
      await new Promise((r) => setTimeout(r, 300));
      expect(await probeAll()).toEqual([]);
    });

    it('an outside probe learns nothing after a timeout made the broker drop a connection', async () => {
      sim.setMisbehaviour({ kind: 'slow', ms: 1500, times: 1 });
      const started = await startLogin(v, b.issuer);
      const { response } = await submitLogin(started, b.issuer, SIP2_CARDS.active.card, SIP2_CARDS.active.pin);
      expect(response.status).toBe(503);
      expect(lines().find((l) => l.outcome === 'unavailable' && /no reply to 63/.test(l.cause))).toBeDefined();
      await new Promise((r) => setTimeout(r, 1500));
      expect(await probeAll()).toEqual([]);
    });

    it('an outside probe learns nothing after `patronym check --card`', async () => {
      const out = await new Promise<{ code: number; stdout: string }>((resolve) => {
        const child = execFile(
          process.execPath,
          ['src/cli/main.ts', 'check', '--card', SIP2_CARDS.active.card],
          { env: { ...process.env, PATRONYM_CONFIG: b.configPath } },
          (error, stdout) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout }),
        );
        child.stdin?.end(`${SIP2_CARDS.active.pin}\n`);
      });
      expect(out.stdout).toContain('sign-in with that card: ok');
      expect(out.code).toBe(0);
      expect(await probeAll()).toEqual([]);
    });

    it('an outside probe learns nothing after the broker shut down', async () => {
      expect((await login(v, b.issuer, SIP2_CARDS.otherActive.card, SIP2_CARDS.otherActive.pin)).callback).toMatch(
        /code=/,
      );
      await b.stop();
      expect(sim.connections).toBe(0);
      expect(await probeAll()).toEqual([]);
    });
  });
});
