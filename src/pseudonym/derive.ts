// The two derivations every pseudonym rests on. Pure functions, pinned by test
// vectors (test/unit/pseudonym/derive.test.ts): changing a byte here changes
// every patron's pseudonym at every vendor.
import { createHmac } from 'node:crypto';
import { lengthPrefixed } from '../crypto/length-prefixed.ts';

function hmac(key: Buffer, parts: readonly string[]): Buffer {
  return createHmac('sha256', key).update(lengthPrefixed(parts)).digest();
}

// RFC 4648 base32, lower case, no padding: valid in a SAML pairwise-id.
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
export function base32lower(bytes: Buffer): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

// accountId = base64url(HMAC-SHA256(accountKey, lp(realm) ‖ lp(stableId))).
// The only patron key that is ever stored.
export function deriveAccountId(accountKey: Buffer, realm: string, stableId: string): string {
  return hmac(accountKey, [realm, stableId]).toString('base64url');
}

// sub = base32lower(HMAC-SHA256(pairwiseKey, lp(sector) ‖ lp(accountId) ‖ lp(generation))) "@" scope.
// OIDC Core 8.1: `sector` is the vendor's sector identifier (a host), taken
// from its registration, never from the request.
export function derivePseudonym(
  pairwiseKey: Buffer,
  input: { sector: string; accountId: string; generation: number; scope: string },
): string {
  if (!Number.isSafeInteger(input.generation) || input.generation < 0) {
    throw new RangeError(`pseudonym: generation must be a non-negative integer; found ${input.generation}`);
  }
  const digest = hmac(pairwiseKey, [input.sector.toLowerCase(), input.accountId, String(input.generation)]);
  return `${base32lower(digest)}@${input.scope.toLowerCase()}`;
}
