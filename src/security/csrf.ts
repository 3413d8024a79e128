// CSRF tokens for the patron forms, bound to the interaction (or session)
// they belong to: HMAC(key, purpose ‖ binding). The cookies are SameSite=Lax
// already; the token also stops a form replayed into another interaction.
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { lengthPrefixed } from '../crypto/length-prefixed.ts';

export interface Csrf {
  token(purpose: string, binding: string): string;
  verify(purpose: string, binding: string, token: unknown): boolean;
}

export function createCsrf(secret: string | Buffer): Csrf {
  const key = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'patronym csrf v1', 32));
  const token = (purpose: string, binding: string) =>
    createHmac('sha256', key)
      .update(lengthPrefixed([purpose, binding]))
      .digest('base64url');
  return {
    token,
    verify(purpose, binding, candidate) {
      if (typeof candidate !== 'string' || candidate.length !== 43) return false;
      return timingSafeEqual(Buffer.from(token(purpose, binding)), Buffer.from(candidate));
    },
  };
}
