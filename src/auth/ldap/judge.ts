// The verdict on an entry whose PIN was right. Pure; the order follows the
// file authenticator: blocked before expired, and both only now, so a
// guesser without the PIN learns nothing about the card.
import { type AuthResult, denied, ok, unavailable } from '../authenticator.ts';
import { lockedAfterBind } from './bind-outcome.ts';
import type { Entry } from './connection.ts';
import { stableIdOf, text } from './entry.ts';
import { isExpired, parseExpiry } from './expiry.ts';
import type { LdapOptions } from './options.ts';

type JudgeOptions = Pick<LdapOptions, 'stableIdAttribute' | 'expiry' | 'attributes'>;

export function judge(entry: Entry, eligible: boolean, options: JudgeOptions, now: number): AuthResult {
  if (lockedAfterBind(text(entry, 'pwdAccountLockedTime')[0]))
    return denied('blocked', 'account locked by an administrator (pwdAccountLockedTime)');
  if (!eligible) return denied('blocked', 'entry does not match the eligibility filter');
  if (options.expiry) {
    const { attribute, format } = options.expiry;
    const value = text(entry, attribute)[0];
    if (value !== undefined) {
      const expiry = parseExpiry(value, format);
      // The sysadmin must fix the data or the format; naming the value would
      // put patron data in a log.
      if (expiry === 'invalid')
        return unavailable(`ldap: expiry attribute "${attribute}" holds a value that is not a ${format}`);
      if (isExpired(expiry, now)) return denied('expired', `"${attribute}" is in the past`);
    }
  }
  const stableId = stableIdOf(entry, options.stableIdAttribute);
  if (!stableId.ok) return unavailable(`ldap: ${stableId.problem}; can the account that reads entries see it?`);
  const attributes: Record<string, string[]> = {};
  for (const name of options.attributes) {
    const values = text(entry, name);
    if (values.length > 0) attributes[name] = values;
  }
  return ok({ stableId: stableId.value, attributes });
}
