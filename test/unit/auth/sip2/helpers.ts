// Shared set-up for the sip2 tests: options that point at a simulator, and
// the per-dialect rules a site running that ILS would configure.
import type { z } from 'zod';
import { type Sip2Options, sip2OptionsSchema } from '../../../../src/auth/sip2/options.ts';
import { Sip2Authenticator, type Sip2Context } from '../../../../src/auth/sip2/sip2-authenticator.ts';
import type { Sip2Dialect, Sip2Simulator } from '../../../support/sip2-server.ts';

export type Sip2Input = z.input<typeof sip2OptionsSchema>;

export const LOGIN = { user: 'broker', password: 'broker-secret' };

// What a site running each ILS writes in its config.
export const DIALECT_OPTIONS: Record<Sip2Dialect, Partial<Sip2Input>> = {
  koha: { expiry: { field: 'PA', formats: ['YYYYMMDD'] }, blocking: { feesOverLimit: true } },
  evergreen: { expiry: { field: 'PA' }, blocking: { feesOverLimit: true }, stableIdField: 'XI' },
  polaris: { expiry: { field: 'PX', expiredFlagField: 'PY' }, blocking: { feesOverLimit: true } },
  broken: { expiry: { field: 'PA', formats: ['YYYYMMDD'] }, blocking: { feesOverLimit: true } },
};

// Options for one or more simulators, with timeouts short enough for tests.
function optionsFor(sims: Sip2Simulator | readonly Sip2Simulator[], extra: Partial<Sip2Input> = {}): Sip2Options {
  const list = Array.isArray(sims) ? sims : [sims as Sip2Simulator];
  return sip2OptionsSchema.parse({
    servers: list.map((s) => ({ host: s.host, port: s.port, allowInsecure: true })),
    login: LOGIN,
    connectTimeout: 1,
    timeout: 0.5,
    ...extra,
  });
}

export function authenticatorFor(
  sims: Sip2Simulator | readonly Sip2Simulator[],
  extra: Partial<Sip2Input> = {},
  context: Sip2Context = {},
): Sip2Authenticator {
  return new Sip2Authenticator('test-sip2', optionsFor(sims, extra), context);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Polls until `check` holds (or fails the test after `ms`).
export async function eventually(check: () => boolean, ms = 2000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not reached in time');
    await sleep(10);
  }
}
