// Device cookies (OWASP, "Slow Down Online Guessing Attacks with Device
// Cookies"): anyone who knows a card number can lock the card by guessing
// PINs, so a browser where the card's owner signed in before gets a signed
// cookie for that card, and the throttle counts that browser's attempts on
// the cookie instead of on the card. The owner gets in while the card is
// locked for everyone else.
//
// The cookie names no card: each token is a random nonce, its issue time and
// HMAC(key, card handle, nonce, time), so it can only be checked against a
// card typed now. One cookie holds the tokens of a few cards (a family
// computer), newest first. Signed with the first cookie key, checked against
// all of them, so rotating cookie keys keeps tokens valid while the old key
// is listed.
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { lengthPrefixed } from '../crypto/length-prefixed.ts';
import { PatronymError } from '../errors.ts';

export const DEVICE_COOKIE = 'patronym_device';
// Cards remembered per browser; the oldest token goes first.
const MAX_TOKENS = 5;
const TOKEN = /^([A-Za-z0-9_-]{22})\.([0-9a-z]{1,10})\.([A-Za-z0-9_-]{43})$/;

export interface DeviceCookies {
  // Milliseconds a fresh cookie lives (for the Set-Cookie header).
  readonly maxAgeMs: number;
  // The throttle key of the unexpired token for this card in `value`, if any.
  find(value: string | undefined, cardKey: string): string | undefined;
  // The cookie value after a sign-in with this card: a fresh token first,
  // this card's older token and expired ones dropped, the others kept.
  issue(value: string | undefined, cardKey: string): string;
}

interface Token {
  text: string;
  nonce: string;
  issued: number; // epoch seconds
  mac: string;
}

export function createDeviceCookies(
  secrets: readonly (string | Buffer)[],
  options: { days: number; now?: () => number },
): DeviceCookies {
  const keys = secrets.map((s) => Buffer.from(hkdfSync('sha256', s, Buffer.alloc(0), 'patronym device cookie v1', 32)));
  const [signer] = keys;
  if (!signer) throw new PatronymError('keys_missing', 'device cookie: no cookie key to sign with');
  const now = options.now ?? Date.now;
  const lifetime = options.days * 24 * 3600;
  const mac = (key: Buffer, cardKey: string, nonce: string, issued: number) =>
    createHmac('sha256', key)
      .update(lengthPrefixed(['device', cardKey, nonce, String(issued)]))
      .digest('base64url');
  // Keyed (with the key that signed the token, so it survives a rotation),
  // so the store's counters cannot be matched to cookies.
  const throttleKey = (key: Buffer, nonce: string) =>
    createHmac('sha256', key)
      .update(lengthPrefixed(['throttle', nonce]))
      .digest('base64url')
      .slice(0, 22);

  const parse = (value: string | undefined): Token[] =>
    (value ?? '')
      .split('~')
      .slice(0, MAX_TOKENS)
      .flatMap((text) => {
        const m = TOKEN.exec(text);
        return m
          ? [{ text, nonce: m[1] as string, issued: Number.parseInt(m[2] as string, 36), mac: m[3] as string }]
          : [];
      });
  const live = (t: Token) => {
    const age = Math.floor(now() / 1000) - t.issued;
    return age >= 0 && age < lifetime;
  };
  // The key that signed this token for this card, if one did.
  const signedBy = (t: Token, cardKey: string) =>
    keys.find((key) => timingSafeEqual(Buffer.from(mac(key, cardKey, t.nonce, t.issued)), Buffer.from(t.mac)));

  return {
    maxAgeMs: lifetime * 1000,
    find(value, cardKey) {
      for (const token of parse(value)) {
        const key = live(token) ? signedBy(token, cardKey) : undefined;
        if (key) return throttleKey(key, token.nonce);
      }
      return undefined;
    },
    issue(value, cardKey) {
      const nonce = randomBytes(16).toString('base64url');
      const issued = Math.floor(now() / 1000);
      const fresh = `${nonce}.${issued.toString(36)}.${mac(signer, cardKey, nonce, issued)}`;
      const kept = parse(value).filter((t) => live(t) && !signedBy(t, cardKey));
      return [fresh, ...kept.map((t) => t.text)].slice(0, MAX_TOKENS).join('~');
    },
  };
}
