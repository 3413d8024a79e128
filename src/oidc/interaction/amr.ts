// What a session's amr says about how the patron got in. Kept in the
// session (never released to vendors: `amr` is not among the broker's
// claims) so the session lifetime in provider.ts can follow the patron's
// "shared computer" choice; the sign-in and walk-in steps set it.
export const SHARED_COMPUTER = 'shared';

export const amrOf = (method: 'pwd' | 'none', shared: boolean): string[] =>
  shared ? [method, SHARED_COMPUTER] : [method];
