// The configuration file's shape. Every key is documented here, beside its
// default; `npm run docs:config` turns these descriptions into
// docs/configuration.md so the reference never drifts from the code.
import { z } from 'zod';
import { LOCALES } from '../locale.ts';

// A secret may be written inline (fine for demos), or — what production
// should do — read from an environment variable or a file at start-up.
export const secretSchema = z
  .union([
    z.string().min(1),
    z.strictObject({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name') }),
    z.strictObject({ file: z.string().min(1) }),
  ])
  .describe('a secret: a string, `{ env: NAME }` or `{ file: path }`');
export type SecretRef = z.infer<typeof secretSchema>;

const id = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'lower-case letters, digits, ".", "_" or "-", at most 63');

const domain = z
  .string()
  .regex(
    /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/,
    'a lower-case domain name',
  );

// The unit is printed in docs/configuration.md beside the type.
const seconds = z.number().int().positive().meta({ unit: 'seconds' });

// Authenticator entries are checked here only for the keys every kind has;
// each backend's own schema (src/auth/<kind>/options.ts, assembled in
// src/auth/registry.ts) is applied by load.ts so all problems are reported
// in one go.
export const authenticatorEntrySchema = z.looseObject({
  id: id.optional().describe('name in logs and metrics; default `<library>-<kind>` (or `<library>-<kind>-<n>`)'),
  kind: z.string().describe('the backend: one of the authenticator kinds, each with its own keys (sections below)'),
});

const cidr = z.string().regex(/^[0-9a-fA-F:.]+\/\d{1,3}$/, 'an address range such as 192.0.2.0/24');

// Retention, in days. The maxima are documented promises to patrons: a
// configuration asking for longer is refused.
const RETENTION_MAX = { releaseLog: 400, consent: 730 } as const;
const retentionSchema = z.strictObject({
  releaseLog: z
    .number()
    .int()
    .min(1)
    .max(RETENTION_MAX.releaseLog)
    .default(180)
    .describe(
      `days a patron's record of a vendor is kept after the last day of use, counted from that day's first sign-in (at most ${RETENTION_MAX.releaseLog})`,
    ),
  consent: z
    .number()
    .int()
    .min(1)
    .max(RETENTION_MAX.consent)
    .default(365)
    .describe(`days a patron's "allow" is remembered (at most ${RETENTION_MAX.consent})`),
});

const colour = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'a colour written #rrggbb');

export const librarySchema = z.strictObject({
  id: id.describe('stable id: used in logs, the `library` hint and claims'),
  name: z.string().min(1).max(120).describe('display name shown to patrons'),
  shortName: z.string().min(1).max(40).optional().describe('a shorter name, also searched by the chooser'),
  town: z.string().min(1).max(120).optional().describe('where it is, shown and searched in the library chooser'),
  logo: z
    .string()
    .min(1)
    .optional()
    .describe('a local PNG, JPEG or SVG file (at most 200 kB), shown on its sign-in page'),
  colours: z
    .strictObject({
      accent: colour.describe('buttons and links'),
      accentText: colour.default('#ffffff').describe('text on the accent colour'),
      dark: z
        .strictObject({
          accent: colour.describe('buttons and links on the dark page'),
          accentText: colour.default('#111111').describe('text on the dark accent colour'),
        })
        .optional()
        .describe(
          'colours for patrons whose device is in dark mode, checked for AA contrast against the dark page (#1e1e1e) and `accentText`; default: none (the library’s pages stay light in dark mode)',
        ),
    })
    .optional()
    .describe('checked at start-up for WCAG AA contrast (4.5:1) against white and against `accentText`'),
  language: z
    .enum(LOCALES)
    .optional()
    .describe(
      'the language of its pages when neither the vendor’s `ui_locales` nor the browser asks for one we have; default: English',
    ),
  messages: z
    .partialRecord(z.enum(LOCALES), z.record(z.string(), z.string().min(1).max(1000)))
    .optional()
    .describe(
      'its own wording for any message of views/messages/en.json, per language (e.g. `{ en: { "login.card": "Borrower number" } }`), checked at start-up',
    ),
  help: z
    .strictObject({
      phone: z.string().min(1).max(40).optional().describe('a telephone number, as patrons should dial it'),
      email: z.email().optional().describe('an email address for patrons’ questions'),
      url: z.url().optional().describe('a help page on the library’s site'),
    })
    .optional()
    .describe('how patrons reach the library for help, shown at the foot of its pages; default: none'),
  cardInput: z
    .enum(['numeric', 'text'])
    .optional()
    .describe(
      'the phone keyboard for the card field; default: `numeric` when every card pattern is digits only, else `text`',
    ),
  pinInput: z
    .enum(['numeric', 'text'])
    .default('text')
    .describe('`numeric` when every PIN is digits only: phones then show a number pad'),
  realm: id.optional().describe('the realm (shared patron database) this library belongs to; default: its own id'),
  scope: domain.optional().describe('domain of its affiliation claims (`member@scope`); default: the realm’s scope'),
  retention: retentionSchema
    .partial()
    .optional()
    .describe('shorter retention for this library’s patrons (never longer than the top-level `retention`)'),
  walkIn: z
    .strictObject({
      ranges: z.array(cidr).min(1).describe('client address ranges inside the library’s buildings'),
    })
    .optional()
    .describe('offer "continue without signing in" from these addresses, to vendors whose policy allows walk-in'),
  cardPatterns: z
    .array(z.string().min(1))
    .default([])
    .describe('card-number prefixes, or anchored regular expressions written `/^…$/`'),
  authenticators: z
    .array(z.union([id, authenticatorEntrySchema]))
    .min(1, 'at least one authenticator')
    .describe('tried in order until one knows the card: inline entries, or ids of shared `authenticators`'),
});

const realmSchema = z.strictObject({
  id: id.describe('realm id: part of every accountId, so never rename it'),
  scope: domain.optional().describe('domain after the `@` of pseudonyms; default: the issuer host'),
  name: z
    .string()
    .min(1)
    .max(120)
    .optional()
    .describe(
      'the library system or consortium as patrons know it (e.g. "Boone County Libraries"): heads its libraries on the chooser and is searched; default: none (its libraries are listed by their own names)',
    ),
});

// Vendors, as OIDC clients, use RFC 7591 registration metadata names.
export const clientSchema = z.strictObject({
  client_id: z.string().min(1).max(200).describe('the vendor’s OIDC client id'),
  client_name: z.string().min(1).max(120).optional().describe('vendor name shown to patrons'),
  client_secret: secretSchema.optional().describe('absent for public clients (they must use PKCE)'),
  redirect_uris: z.array(z.url()).min(1).describe('matched exactly'),
  post_logout_redirect_uris: z.array(z.url()).optional().describe('where RP-initiated logout may return'),
  token_endpoint_auth_method: z
    .enum(['client_secret_basic', 'client_secret_post', 'none'])
    .optional()
    .describe('default: `client_secret_basic` with a secret, `none` without'),
  grant_types: z
    .array(z.enum(['authorization_code', 'refresh_token']))
    .default(['authorization_code', 'refresh_token'])
    .describe('`refresh_token` lets it ask for `offline_access`'),
  id_token_signed_response_alg: z.enum(['RS256', 'ES256']).default('RS256').describe('how its ID tokens are signed'),
  sector_identifier_uri: z.url().optional().describe('OIDC Core 8.1: needed when redirect URIs span several hosts'),
  release: z
    .array(z.enum(['library', 'affiliation', 'entitlement']))
    .default([])
    .describe('release policy: what this vendor may learn beyond its pseudonym, with the patron’s consent'),
  walkIn: z.boolean().default(false).describe('may patrons inside a library use this vendor without signing in'),
  backchannel_logout_uri: z.url().optional().describe('OIDC Back-Channel Logout: where the broker posts logout tokens'),
  backchannel_logout_session_required: z
    .boolean()
    .optional()
    .describe('put `sid` in its logout tokens; default: false'),
  logo_uri: z.url().optional().describe('its logo, shown to patrons on the consent and /vendors pages'),
  policy_uri: z.url().optional().describe('its privacy policy, linked for patrons'),
  tos_uri: z.url().optional().describe('its terms of service, linked for patrons'),
});

export const storeSchema = z
  .discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('memory').describe('in the process only: for tests, lost at exit') }),
    z.strictObject({
      kind: z.literal('sqlite').describe('one file on this machine (the default)'),
      path: z.string().min(1).default('data/patronym.sqlite').describe('database file; its folder is created'),
    }),
    z.strictObject({
      kind: z.literal('postgres').describe('a PostgreSQL database shared by several broker processes'),
      url: z
        .string()
        .regex(/^postgres(ql)?:\/\/[^\s]+$/, 'a URL postgres://user@host:port/database')
        .describe(
          'the shared database, `postgres://user@host:port/database` (no password here: see `password`); `PATRONYM_STORE_URL` overrides',
        ),
      password: secretSchema
        .optional()
        .describe('the database user’s password; in production `{ env: NAME }` or `{ file: path }`'),
      poolSize: z.number().int().min(1).max(200).default(10).describe('connections per broker process'),
      tls: z
        .strictObject({
          ca: z.string().min(1).optional().describe('CA certificate file (PEM) to verify the server with'),
          rejectUnauthorized: z
            .boolean()
            .default(true)
            .describe('verify the server certificate and host name; `false` only for tests'),
          servername: z.string().min(1).optional().describe('host name to verify the certificate against'),
        })
        .optional()
        .describe('connect with TLS (as `sslmode=verify-full`); absent: plain, for a database on the same host'),
    }),
  ])
  .default({ kind: 'sqlite', path: 'data/patronym.sqlite' })
  .describe(
    'where sessions, grants, throttling counters and patrons’ records live; `PATRONYM_STORE_URL` selects `postgres`',
  );

export const configSchema = z.strictObject({
  issuer: z
    .url()
    .default('http://localhost:3000')
    .describe('public URL of the broker, no trailing slash; `ISSUER` overrides'),
  port: z.number().int().min(0).max(65535).default(3000).describe('listening port; `PORT` overrides'),
  host: z.string().default('0.0.0.0').describe('listening address'),
  trustedProxies: z
    .array(cidr)
    .default([])
    .describe('reverse proxies whose X-Forwarded-For/-Proto are believed (for the client address, https and walk-in)'),
  keepAliveTimeout: seconds
    .max(3600)
    .default(65)
    .describe(
      'seconds a kept-alive HTTP connection may stay idle before the broker closes it. Keep it above the idle timeout ' +
        'of a reverse proxy’s connections to the broker (nginx `keepalive_timeout` in an `upstream`: 60 s): ' +
        'a proxy that reuses a connection the broker is closing gets no answer (a 502 for the patron)',
    ),
  throttle: z
    .strictObject({
      card: z
        .strictObject({
          delayAfter: z
            .number()
            .int()
            .min(1)
            .default(5)
            .describe('attempts for one card per window before each answer is slowed'),
          lockAfter: z
            .number()
            .int()
            .min(2)
            .default(10)
            .describe(
              'PIN checks for one card per window (counted before the check); the next attempt locks it, right PIN or not',
            ),
          window: seconds.default(900).describe('seconds over which failures are counted'),
          lock: seconds.default(900).describe('seconds a locked card stays locked'),
        })
        .default({ delayAfter: 5, lockAfter: 10, window: 900, lock: 900 })
        .describe('per card number (counted under its canonical spelling, keyed by a hash)'),
      address: z
        .strictObject({
          lockAfter: z
            .number()
            .int()
            .min(2)
            .default(30)
            .describe(
              'PIN checks from one client address per window, across cards (a success gives its point back); the next is refused',
            ),
          window: seconds.default(900).describe('seconds over which failures are counted'),
          lock: seconds.default(900).describe('seconds a refused address stays refused'),
        })
        .default({ lockAfter: 30, window: 900, lock: 900 })
        .describe('per client address, across cards (size it above a classroom’s burst)'),
      deviceCookie: z
        .strictObject({
          days: z
            .number()
            .int()
            .min(0)
            .max(400)
            .default(180)
            .describe(
              'days a device cookie stays valid after a sign-in (not on a shared computer); 0 issues none. ' +
                "A browser holding one for a card bypasses that card's lock (not the address lock)",
            ),
          lockAfter: z
            .number()
            .int()
            .min(1)
            .default(5)
            .describe(
              'wrong PINs one device cookie may send per `card.window` before it is ignored for `card.lock` seconds',
            ),
        })
        .default({ days: 180, lockAfter: 5 })
        .describe('a cookie remembering a browser that signed a card in, so a lock on that card spares it'),
    })
    .default({
      card: { delayAfter: 5, lockAfter: 10, window: 900, lock: 900 },
      address: { lockAfter: 30, window: 900, lock: 900 },
      deviceCookie: { days: 180, lockAfter: 5 },
    })
    .describe('brute-force protection; counters live in the store, so they hold across restarts and instances'),
  registration: z
    .strictObject({
      enabled: z
        .boolean()
        .default(true)
        .describe(
          'dynamic client registration (RFC 7591/7592), only with an initial access token from `patronym clients token`',
        ),
    })
    .default({ enabled: true })
    .describe('vendors registering themselves at /reg'),
  outbound: z
    .strictObject({
      allowPrivateAddresses: z
        .boolean()
        .default(false)
        .describe(
          'let the broker call vendors on private or loopback addresses (back-channel logout, sector documents)',
        ),
      ca: z
        .string()
        .min(1)
        .optional()
        .describe('extra CA certificate file for those calls (needs allowPrivateAddresses)'),
    })
    .default({ allowPrivateAddresses: false })
    .describe('calls the broker makes to vendors (back-channel logout, sector identifier documents)'),
  oidc: z
    .strictObject({
      requestObjects: z.boolean().default(false).describe('accept signed request objects (`request`)'),
      pushedAuthorizationRequests: z.boolean().default(false).describe('offer PAR (`request_uri`)'),
    })
    .default({ requestObjects: false, pushedAuthorizationRequests: false })
    .describe('optional OpenID Connect features, off by default'),
  store: storeSchema,
  sweepInterval: seconds.default(300).describe('seconds between sweeps of expired records'),
  workers: z
    .union([z.literal('auto'), z.number().int().min(1).max(64)])
    .default(1)
    .describe(
      'broker processes sharing the port (node:cluster), the store, keys and throttle counters; `auto`: one per core. ' +
        'Above 1 needs a sqlite or postgres store; SIGHUP to the primary reloads every worker. Read at start only. ' +
        'Pays off where the broker is what limits sign-ins (more cores than it uses, the directory elsewhere): ' +
        'on 2 cores shared with the directory and the load, two workers signed in about 10% more per second than one ' +
        'process, at about 1 ms more CPU per sign-in (medians of paired rounds: README, benchmarks)',
    ),
  keys: z
    .strictObject({
      dir: z.string().default('keys').describe('where generated keys live (mode 0600)'),
      accountKey: secretSchema.optional().describe('overrides keys/pseudonym.json; env `PATRONYM_ACCOUNT_KEY` too'),
      pairwiseKey: secretSchema.optional().describe('overrides keys/pseudonym.json; env `PATRONYM_PAIRWISE_KEY` too'),
      pinPepper: secretSchema.optional().describe('overrides keys/pin-pepper; env `PATRONYM_PIN_PEPPER` too'),
    })
    .default({ dir: 'keys' })
    .describe('signing, cookie and pseudonym keys and the PIN pepper; back the folder up (keys/README.md)'),
  metrics: z
    .strictObject({
      enabled: z.boolean().default(true).describe('serve Prometheus metrics at /metrics'),
      allow: z
        .array(z.string().regex(/^[0-9a-fA-F:.]+\/\d{1,3}$/, 'an address range such as 10.0.0.0/8'))
        .default(['127.0.0.1/32', '::1/128'])
        .describe('client address ranges that may read /metrics'),
    })
    .default({ enabled: true, allow: ['127.0.0.1/32', '::1/128'] })
    .describe('Prometheus metrics (no patron data in any label)'),
  log: z
    .strictObject({
      level: z
        .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
        .default('info')
        .describe('JSON lines on stdout; no patron data at any level'),
    })
    .default({ level: 'info' })
    .describe('the broker’s log: JSON lines on stdout'),
  ttl: z
    .strictObject({
      session: seconds.default(8 * 3600).describe('absolute lifetime of a broker sign-in session'),
      sessionIdle: seconds.default(15 * 60).describe('a session unused this long ends'),
      sharedSession: seconds.default(3600).describe('absolute lifetime when the patron ticks "shared computer"'),
      sharedSessionIdle: seconds.default(5 * 60).describe('idle timeout when the patron ticks "shared computer"'),
      interaction: seconds.default(15 * 60).describe('time a patron has to complete the sign-in page'),
      authorizationCode: seconds.max(600).default(60).describe('authorization codes are one-time and short-lived'),
      accessToken: seconds.default(3600).describe('opaque access tokens for the userinfo endpoint'),
      idToken: seconds.default(3600).describe('`exp` of ID tokens'),
      refreshToken: seconds.default(14 * 24 * 3600).describe('refresh tokens (vendors asking for `offline_access`)'),
      grant: seconds
        .default(14 * 24 * 3600)
        .describe(
          'grants (what a sign-in gave a vendor): one without `offline_access` is kept until its session and the tokens issued in it can end (`session` + the longest token), at most this; one with it, the longer of this and `refreshToken` (which also ends a chain of rotated refresh tokens). Set when the grant is made or gains `offline_access`; later sign-ins do not renew it',
        ),
      account: seconds
        .default(180 * 24 * 3600)
        .describe(
          'how long a patron’s account record (realm, last library) is kept after their last sign-in; pseudonym generations never expire',
        ),
    })
    .default({
      session: 8 * 3600,
      sessionIdle: 15 * 60,
      sharedSession: 3600,
      sharedSessionIdle: 5 * 60,
      interaction: 15 * 60,
      authorizationCode: 60,
      accessToken: 3600,
      idToken: 3600,
      refreshToken: 14 * 24 * 3600,
      grant: 14 * 24 * 3600,
      account: 180 * 24 * 3600,
    })
    .describe('lifetimes of sessions, tokens and records'),
  authenticators: z
    .array(authenticatorEntrySchema.extend({ id: id.describe('referred to from `libraries[].authenticators`') }))
    .default([])
    .describe('authenticators defined once and shared by several libraries (branches on one ILS)'),
  retention: retentionSchema
    .default({ releaseLog: 180, consent: 365 })
    .describe('how long patrons’ records are kept, in days (documented promises: see the maxima)'),
  stats: z
    .strictObject({
      enabled: z
        .boolean()
        .default(true)
        .describe(
          'count sign-ins and estimate distinct patrons per library, vendor, day and month, keeping no record of who signed in (README: Usage statistics)',
        ),
      threshold: z
        .number()
        .int()
        .min(1)
        .max(100)
        .default(5)
        .describe('counts below this are reported as "fewer than <threshold>"'),
      retention: z
        .number()
        .int()
        .min(1)
        .max(3700)
        .default(800)
        .describe('days each day’s counts and sketches are kept (they name no patron)'),
      page: z
        .strictObject({
          passwordHash: z
            .string()
            .regex(
              /^\$scrypt\$ln=\d{1,2},r=\d{1,2},p=\d{1,2}\$[A-Za-z0-9_-]{16,}\$[A-Za-z0-9_-]{43}$/,
              'a hash printed by `patronym stats hash-password`',
            )
            .optional()
            .describe(
              'the sysadmins’ password for /stats (HTTP Basic, user `stats`), as `patronym stats hash-password` prints it; absent: no page',
            ),
          allow: z
            .array(cidr)
            .default(['127.0.0.1/32', '::1/128'])
            .describe('client address ranges that may open /stats at all (others get 404)'),
        })
        .default({ allow: ['127.0.0.1/32', '::1/128'] })
        .describe('/stats, the page for sysadmins: both locks must open'),
    })
    .default({ enabled: true, threshold: 5, retention: 800, page: { allow: ['127.0.0.1/32', '::1/128'] } })
    .describe('the library’s own usage statistics (`patronym stats`, /stats)'),
  privacyPage: z
    .string()
    .min(1)
    .optional()
    .describe('an eta template replacing views/privacy.eta for the /privacy page (same data)'),
  realms: z
    .array(realmSchema)
    .default([])
    .describe('patron databases shared by several libraries; default: each library is its own realm'),
  libraries: z
    .array(librarySchema)
    .min(1, 'at least one library')
    .describe('the libraries patrons choose from, each with its authenticator chain'),
  clients: z
    .array(clientSchema)
    .default([])
    .describe('vendors (OIDC clients) kept in this file; others are added with `patronym clients add`'),
});

export type ConfigInput = z.input<typeof configSchema>;
export type ParsedConfig = z.infer<typeof configSchema>;
export type LibraryConfig = z.infer<typeof librarySchema>;
export type ClientConfig = z.infer<typeof clientSchema>;
export type AuthenticatorEntry = z.infer<typeof authenticatorEntrySchema>;
