// The signatures of signed cookies (`name.sig`), for Koa's `cookies` module,
// which asks its keys for sign(), verify() and index(), as keygrip offers
// them. They are keygrip's own signatures, HMAC-SHA1 of `name=value` under
// the first cookie key, base64url, so cookies signed before stay valid; a
// signature made with a later key of the list still verifies (rotation).
//
// What differs is the comparison. keygrip compares through tsscmp, which
// draws 32 random bytes (a getrandom system call) and computes two more
// HMACs for every comparison, and oidc-provider reads a signed cookie at
// nearly every step of a sign-in (3.5 checks each): 1.4% of the broker's
// samples in a CPU profile of issue 18, though interleaved bench rounds
// put the saving under 1% of a sign-in. Here the expected
// signature is compared with crypto.timingSafeEqual, which takes the same
// time whatever the bytes (a signature of another length, never a valid
// one, is refused at once: the length of an HMAC is no secret).
import { createHmac, timingSafeEqual } from 'node:crypto';

export class CookieSigner {
  readonly #keys: readonly string[];

  constructor(keys: readonly string[]) {
    if (keys.length === 0) throw new Error('cookie signer: no keys');
    this.#keys = keys;
  }

  #sign(data: string, key: string): string {
    return createHmac('sha1', key).update(data).digest('base64url');
  }

  sign(data: string): string {
    return this.#sign(data, this.#keys[0] as string);
  }

  verify(data: string, digest: string): boolean {
    return this.index(data, digest) > -1;
  }

  // Which key made `digest`, or -1.
  index(data: string, digest: string): number {
    if (typeof digest !== 'string') return -1;
    const given = Buffer.from(digest);
    for (let i = 0; i < this.#keys.length; i++) {
      const expected = Buffer.from(this.#sign(data, this.#keys[i] as string));
      if (expected.length === given.length && timingSafeEqual(expected, given)) return i;
    }
    return -1;
  }
}
