// Short keyed handles that let a sysadmin follow one card or one account
// through the logs, and let throttling count failures, without either ever
// holding the card number. Keyed from the account key through HKDF so a
// handle can never be turned back into an accountId.
import { createHmac, hkdfSync } from 'node:crypto';
import { lengthPrefixed } from '../crypto/length-prefixed.ts';

export interface Handles {
  // For a card typed at a library's realm (also used before we know whether it exists).
  card(realm: string, card: string): string;
  // For an accountId.
  account(accountId: string): string;
  // For a client address (addresses are personal data too).
  address(ip: string): string;
}

export function createHandles(accountKey: Buffer): Handles {
  const key = Buffer.from(hkdfSync('sha256', accountKey, Buffer.alloc(0), 'patronym log handles v1', 32));
  const handle = (parts: string[]) =>
    createHmac('sha256', key).update(lengthPrefixed(parts)).digest('base64url').slice(0, 12);
  return {
    card: (realm, card) => handle(['card', realm, card]),
    account: (accountId) => handle(['account', accountId]),
    address: (ip) => handle(['address', ip]),
  };
}
