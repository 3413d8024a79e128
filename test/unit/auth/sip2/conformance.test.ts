// The shared authenticator contract, once per simulated ILS dialect, each
// configured as a site running that ILS would configure it; then once per
// quirk a real server showed (issue 13), over the evergreen dialect.
import { type AuthenticatorFixture, authenticatorSuite } from '../../../conformance/authenticator.suite.ts';
import {
  type Misbehaviour,
  patronFieldsIn,
  probeLastReply,
  SIP2_CARDS,
  SIP2_DIALECTS,
  SIP2_PATRONS,
  type Sip2Quirks,
  type Sip2ServerOptions,
  type Sip2Simulator,
  startSip2Server,
} from '../../../support/sip2-server.ts';
import { authenticatorFor, DIALECT_OPTIONS, eventually, LOGIN, type Sip2Input, sleep } from './helpers.ts';

const { noPin: _noPin, blockedByFees: _fees, ...FIXTURE } = SIP2_CARDS;

function suite(
  name: string,
  server: Sip2ServerOptions,
  options: Partial<Sip2Input>,
  fixture: AuthenticatorFixture = FIXTURE,
  misbehaviour?: () => Misbehaviour,
): void {
  authenticatorSuite(name, async () => {
    const start = async (port?: number) => {
      const s = await startSip2Server({ ...server, login: LOGIN, ...(port ? { port } : {}) });
      if (misbehaviour) s.setMisbehaviour(misbehaviour());
      return s;
    };
    let sim: Sip2Simulator = await start();
    const port = sim.port;
    const authenticator = authenticatorFor(sim, options);
    return {
      authenticator,
      fixture,
      another: () => authenticatorFor(sim, options),
      // Probes the workers of closed connections (replayToNewConnections;
      // other servers answer the probe with a 96).
      leftBehind: async () => {
        if (server.quirks?.replayToNewConnections) await eventually(() => sim.idleWorkers > 0);
        await sleep(50);
        const found: string[] = [];
        for (let i = Math.max(1, sim.idleWorkers); i > 0; i--) found.push(...patronFieldsIn(await probeLastReply(sim)));
        return found;
      },
      // The same authenticator loses its server (pooled connections and
      // all) and must recover when the server is back on the same port.
      unreachable: async () => {
        await sim.stop();
        return authenticator;
      },
      restore: async () => {
        sim = await start(port);
      },
      teardown: () => sim.stop(),
    };
  });
}

for (const dialect of SIP2_DIALECTS) suite(`sip2 (${dialect} dialect)`, { dialect }, DIALECT_OPTIONS[dialect]);

const evergreen = (quirks: Sip2Quirks, patrons = SIP2_PATRONS): Sip2ServerOptions => ({
  dialect: 'evergreen',
  quirks,
  patrons,
});
const EVERGREEN = DIALECT_OPTIONS.evergreen;

// Every patron reply arrives damaged once; the 97 re-send comes with AY0.
suite('sip2 (resends with AY0)', evergreen({ resendWithSeqZero: true }), EVERGREEN, FIXTURE, () => ({
  kind: 'bad-checksum',
  cleanResends: true,
}));

// Cards that are not ASCII, as patrons type user names.
const ACCENTED = [
  ...SIP2_PATRONS,
  { card: 'jörg', pin: '2468', id: 'p-0007', name: 'Jörg Umlaut' },
  { card: 'zoë', pin: '1357', id: 'p-0008', name: 'Zoë Zweite' },
];
const ACCENTED_FIXTURE = {
  ...FIXTURE,
  active: { card: 'jörg', pin: '2468' },
  otherActive: { card: 'zoë', pin: '1357' },
  wrongPin: { card: 'jörg', pin: '0000' },
  unknownCard: { card: 'müller', pin: '2468' },
};
suite('sip2 (echoes AA transliterated to ASCII)', evergreen({ echo: 'ascii' }, ACCENTED), EVERGREEN, ACCENTED_FIXTURE);
suite('sip2 (echoes AA double-encoded)', evergreen({ echo: 'double-encoded' }, ACCENTED), EVERGREEN, ACCENTED_FIXTURE);

// Idle connections are closed by the server before the keep-alive, and
// also (second suite) kept by a keep-alive below the server's timeout.
suite('sip2 (idle timeout 0.2 s, keepAlive above it)', evergreen({ idleTimeoutMs: 200 }), EVERGREEN);
suite('sip2 (idle timeout 0.4 s, keepAlive below it)', evergreen({ idleTimeoutMs: 400 }), {
  ...EVERGREEN,
  keepAlive: 0.1,
});

// The contract holds, and (last-reply.test.ts) nothing leaks through it.
suite('sip2 (replays last reply to new connections)', evergreen({ replayToNewConnections: true }), EVERGREEN);

// The first login on the server is damaged: 96, then the server closes.
suite('sip2 (closes after 96 on 93)', evergreen({}), EVERGREEN, FIXTURE, () => ({
  kind: 'resend',
  close: true,
  on: ['93'],
  times: 1,
}));
