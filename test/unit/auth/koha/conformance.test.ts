// The shared authenticator contract over the Koha simulator, once with HTTP
// Basic and once with OAuth2 client credentials.
import { authenticatorSuite } from '../../../conformance/authenticator.suite.ts';
import { ILS_CARDS } from '../../../support/ils-http.ts';
import { type KohaSimulator, startKohaSimulator } from '../../../support/ils-koha.ts';
import { BASIC, kohaFor, OAUTH } from './helpers.ts';

const { noPin: _noPin, blockedByFees: _fees, ...FIXTURE } = ILS_CARDS;

for (const [name, auth] of [
  ['basic', BASIC],
  ['oauth2', OAUTH],
] as const) {
  authenticatorSuite(`koha (${name})`, async () => {
    let sim: KohaSimulator = await startKohaSimulator();
    const port = sim.port;
    const authenticator = kohaFor(sim, { auth });
    return {
      authenticator,
      fixture: FIXTURE,
      unreachable: async () => {
        await sim.stop();
        return authenticator;
      },
      restore: async () => {
        sim = await startKohaSimulator({ port });
      },
      teardown: () => sim.stop(),
    };
  });
}
