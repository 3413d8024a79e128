// The contract every backend implements (file, ldap, sip2, koha, …).
// A wrong PIN is a result, not an exception: only an outage is `unavailable`,
// so the patron page and the sysadmin's alerts can tell a typo from a dead ILS.

export type DenyReason = 'bad-credentials' | 'unknown-card' | 'blocked' | 'expired';

// What a backend says about a patron. It lives only for the request that
// asked: nothing here is ever stored or logged.
export interface PatronRecord {
  // The backend's permanent key for the patron (LDAP entryUUID, ILS record id…),
  // not the barcode where a better key exists.
  stableId: string;
  // Attributes read from the backend that later claims may be built from.
  attributes: Readonly<Record<string, readonly string[]>>;
}

export type AuthResult =
  | { readonly kind: 'ok'; readonly patron: PatronRecord }
  | { readonly kind: 'denied'; readonly reason: DenyReason; readonly detail?: string }
  | { readonly kind: 'unavailable'; readonly cause: string };

export const ok = (patron: PatronRecord): AuthResult => ({ kind: 'ok', patron });
// `detail` is for the sysadmin's log (e.g. "filter matched 2 entries"); it must
// never contain the card, the PIN or anything read about the patron.
export const denied = (reason: DenyReason, detail?: string): AuthResult =>
  detail === undefined ? { kind: 'denied', reason } : { kind: 'denied', reason, detail };
export const unavailable = (cause: string): AuthResult => ({ kind: 'unavailable', cause });

export interface Credentials {
  // Already normalised (NFKC, trimmed) and length-checked by the caller.
  readonly card: string;
  readonly pin: string;
}

// Built by its kind's factory in registry.ts from options the configuration
// loader has already resolved: secrets arrive as text and certificates as
// their PEM (src/config/resources.ts; a patron file is checked there and read
// by its authenticator, which follows its changes), so a constructor reads no
// secret and every missing secret or file is reported with the others.
export interface Authenticator {
  // The id from the configuration, used in logs and metrics.
  readonly id: string;
  readonly kind: string;
  authenticate(credentials: Credentials): Promise<AuthResult>;
  // The one spelling of a card this backend treats as the same patron as
  // `card` (LDAP's caseIgnoreMatch folds case, SIP2 systems trim and
  // upper-case, the patron file matches exactly). Throttling counts attempts
  // under this form, so that six capitalisations of one card are one
  // counter, not six. Pure and cheap: it runs before any backend is asked.
  canonicalCard(card: string): string;
  // A health check for `patronym check`: resolves with a one-line summary or
  // rejects with a PatronymError saying what is wrong.
  check?(): Promise<string>;
  close(): Promise<void>;
}

// What a backend may need from the broker besides its own options.
export interface AuthenticatorContext {
  pinPepper: Buffer;
  // For start-up warnings a sysadmin must see (e.g. "plain TCP, no TLS").
  // Never pass a card, PIN or anything read about a patron.
  warn: (message: string) => void;
  now?: () => number;
}
