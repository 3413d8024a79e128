// The shared authenticator contract over the Koha simulator, once with HTTP
// Basic and once with OAuth2 client credentials.
import { ilsConformance } from '../../../support/ils-conformance.ts';
import { startKohaSimulator } from '../../../support/ils-koha.ts';
import { BASIC, kohaFor, OAUTH } from './helpers.ts';

for (const [name, auth] of [
  ['basic', BASIC],
  ['oauth2', OAUTH],
] as const) {
  ilsConformance(`koha (${name})`, startKohaSimulator, (sim) => kohaFor(sim, { auth }));
}
