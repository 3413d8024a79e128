// A service token (OAuth2 client credentials, Okapi login…) kept until
// shortly before it expires. One fetch at a time: forty sign-ins arriving
// with no token make one token request, not forty. A 401 with a cached
// token invalidates it, so a token the ILS revoked early costs one retry.

export interface IssuedToken {
  token: string;
  // Seconds the ILS says the token lives; undefined: until a 401.
  expiresIn?: number | undefined;
}

// Renew this long before the announced expiry, so that a request sent with
// the token does not arrive after it (clock skew, a slow network).
const MARGIN_S = 30;

export class TokenCache {
  readonly #fetch: () => Promise<IssuedToken>;
  readonly #now: () => number;
  #current: { token: string; until: number } | undefined;
  #pending: Promise<string> | undefined;
  fetches = 0;

  constructor(fetch: () => Promise<IssuedToken>, now: () => number = Date.now) {
    this.#fetch = fetch;
    this.#now = now;
  }

  async get(): Promise<string> {
    const c = this.#current;
    if (c && this.#now() < c.until) return c.token;
    this.#pending ??= this.#renew().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  // Only the token that failed: another request may already have renewed it.
  invalidate(token: string): void {
    if (this.#current?.token === token) this.#current = undefined;
  }

  async #renew(): Promise<string> {
    this.fetches++;
    const issued = await this.#fetch();
    const life = issued.expiresIn ?? Number.POSITIVE_INFINITY;
    // A very short-lived token is still used once rather than never.
    const margin = Math.min(MARGIN_S, life / 2);
    this.#current = { token: issued.token, until: this.#now() + (life - margin) * 1000 };
    return issued.token;
  }
}
