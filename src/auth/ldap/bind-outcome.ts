// What a patron's failed bind means. Pure; tested with tables.
//
// Directories answer almost every failed bind with invalidCredentials (49),
// to tell a guesser nothing. The finer reason comes from elsewhere:
// - OpenLDAP's password policy (draft-behera-ldap-password-policy-11,
//   section 6.2): a response control whose `error` 1 is accountLocked, when
//   the bind asked for it and the server is configured to say so
//   (`ppolicy_use_lockout`); otherwise the entry's `pwdAccountLockedTime`,
//   which the service account read before the bind.
// - Active Directory: the "data NNN" code in the diagnostic message
//   (AcceptSecurityContext sub-codes).
import type { DenyReason } from '../authenticator.ts';
import { INVALID_CREDENTIALS, INVALID_DN_SYNTAX, resultName } from './result-codes.ts';

const PPOLICY_PASSWORD_EXPIRED = 0;
const PPOLICY_ACCOUNT_LOCKED = 1;
// slapo-ppolicy(5): this lock time means "locked until an administrator
// unlocks it", whatever the policy's lockout duration.
const PERMANENT_LOCK = '000001010000Z';

const AD_DATA: Readonly<Record<string, { reason: DenyReason; detail: string }>> = {
  '525': { reason: 'unknown-card', detail: 'no such user (AD data 525)' },
  '52e': { reason: 'bad-credentials', detail: 'invalid credentials (AD data 52e)' },
  '530': { reason: 'blocked', detail: 'logon not permitted at this time (AD data 530)' },
  '531': { reason: 'blocked', detail: 'logon not permitted at this workstation (AD data 531)' },
  '532': { reason: 'blocked', detail: 'password expired (AD data 532)' },
  '533': { reason: 'blocked', detail: 'account disabled (AD data 533)' },
  '701': { reason: 'expired', detail: 'account expired (AD data 701)' },
  '773': { reason: 'blocked', detail: 'password must be reset (AD data 773)' },
  '775': { reason: 'blocked', detail: 'account locked out (AD data 775)' },
};

export interface FailedBind {
  code: number;
  // The server's diagnostic message; read for AD sub-codes, never returned.
  message: string;
  // The ppolicy response control's error, when the server sent one.
  ppolicyError?: number;
}

export type FailedBindOutcome = { reason: DenyReason; detail: string } | { unavailable: string };

export function failedBindOutcome(bind: FailedBind, lockedTime?: string): FailedBindOutcome {
  // A DN the server cannot even parse names nobody (direct bind, odd card).
  if (bind.code === INVALID_DN_SYNTAX) return { reason: 'unknown-card', detail: 'bind name is not a valid DN' };
  if (bind.code !== INVALID_CREDENTIALS) {
    // unwillingToPerform, busy, other…: the directory did not judge the PIN.
    return { unavailable: `bind as patron refused: ${resultName(bind.code)}` };
  }
  if (bind.ppolicyError === PPOLICY_ACCOUNT_LOCKED)
    return { reason: 'blocked', detail: 'account locked (password policy)' };
  // Reported only once the password itself was right; the patron must ask
  // the library for a new PIN, so retyping it cannot help.
  if (bind.ppolicyError === PPOLICY_PASSWORD_EXPIRED)
    return { reason: 'blocked', detail: 'PIN expired (password policy)' };
  const ad = /\bdata ([0-9a-f]{3})\b/i.exec(bind.message)?.[1]?.toLowerCase();
  const known = ad === undefined ? undefined : AD_DATA[ad];
  if (known) return known;
  // A lock time with a failed bind: the server refused because of the lock,
  // or the lock has lapsed and the PIN is wrong; "contact your library" is
  // the useful answer either way.
  if (lockedTime !== undefined) return { reason: 'blocked', detail: 'account locked (pwdAccountLockedTime)' };
  return { reason: 'bad-credentials', detail: 'invalid credentials' };
}

// After a successful bind the server thought the account usable; only an
// administrative lock still counts (a server without the ppolicy overlay,
// e.g. a replica, would not enforce it).
export const lockedAfterBind = (lockedTime?: string): boolean => lockedTime === PERMANENT_LOCK;
