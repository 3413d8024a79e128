// The shared authenticator contract, once per simulated ILS dialect, each
// configured as a site running that ILS would configure it.
import { authenticatorSuite } from '../../../conformance/authenticator.suite.ts';
import { SIP2_CARDS, SIP2_DIALECTS, type Sip2Simulator, startSip2Server } from '../../../support/sip2-server.ts';
import { authenticatorFor, DIALECT_OPTIONS, LOGIN } from './helpers.ts';

for (const dialect of SIP2_DIALECTS) {
  authenticatorSuite(`sip2 (${dialect} dialect)`, async () => {
    let sim: Sip2Simulator = await startSip2Server({ dialect, login: LOGIN });
    const port = sim.port;
    const authenticator = authenticatorFor(sim, DIALECT_OPTIONS[dialect]);
    const { noPin: _noPin, blockedByFees: _fees, ...fixture } = SIP2_CARDS;
    return {
      authenticator,
      fixture,
      // The same authenticator loses its server (pooled connections and
      // all) and must recover when the server is back on the same port.
      unreachable: async () => {
        await sim.stop();
        return authenticator;
      },
      restore: async () => {
        sim = await startSip2Server({ dialect, login: LOGIN, port });
      },
      teardown: () => sim.stop(),
    };
  });
}
