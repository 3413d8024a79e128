// The shared authenticator contract over one ILS simulator: the same
// fixture (the SIP2 patrons, less the cases only SIP2 can express), a
// simulator stopped to make the backend unreachable and started again on
// the same port to restore it. Every ILS REST kind registers through this.
import type { Authenticator } from '../../src/auth/authenticator.ts';
import { authenticatorSuite } from '../conformance/authenticator.suite.ts';
import { ILS_CARDS } from './ils-http.ts';

const { noPin: _noPin, blockedByFees: _fees, ...FIXTURE } = ILS_CARDS;

export function ilsConformance<S extends { port: number; stop(): Promise<void> }>(
  name: string,
  start: (options?: { port: number }) => Promise<S>,
  authenticatorFor: (sim: S) => Authenticator,
): void {
  authenticatorSuite(name, async () => {
    let sim = await start();
    const port = sim.port;
    const authenticator = authenticatorFor(sim);
    return {
      authenticator,
      fixture: FIXTURE,
      unreachable: async () => {
        await sim.stop();
        return authenticator;
      },
      restore: async () => {
        sim = await start({ port });
      },
      teardown: () => sim.stop(),
    };
  });
}
