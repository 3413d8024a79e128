import { KohaAuthenticator } from '../../../../src/auth/koha/koha-authenticator.ts';
import { kohaOptionsSchema } from '../../../../src/auth/koha/options.ts';
import { KOHA_CLIENT, KOHA_STAFF, type KohaSimulator } from '../../../support/ils-koha.ts';

export type KohaInput = Record<string, unknown>;

export const BASIC = { basic: KOHA_STAFF };
export const OAUTH = { oauth: KOHA_CLIENT };

// A koha authenticator on the simulator, options checked by the real schema.
export function kohaFor(sim: Pick<KohaSimulator, 'baseUrl'>, input: KohaInput = {}): KohaAuthenticator {
  const options = kohaOptionsSchema.parse({ baseUrl: sim.baseUrl, allowHttp: true, auth: BASIC, timeout: 1, ...input });
  return new KohaAuthenticator('springfield-koha', options);
}
