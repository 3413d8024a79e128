// Options of the `sip2` authenticator. Every key is documented beside its
// default; the configuration reference is generated from these descriptions.
import { z } from 'zod';
import { secretSchema } from '../../config/schema.ts';
import { DEFAULT_DATE_FORMATS, isDateFormat } from './dates.ts';
import { SIP2_ENCODINGS } from './encoding.ts';
import { hasControlCharacter } from './message.ts';

// The 14 patron status flags of a 24 or 64, in the order the spec sends them.
export const STATUS_FLAGS = [
  'charge-privileges-denied',
  'renewal-privileges-denied',
  'recall-privileges-denied',
  'hold-privileges-denied',
  'card-reported-lost',
  'too-many-items-charged',
  'too-many-items-overdue',
  'too-many-renewals',
  'too-many-claims-of-items-returned',
  'too-many-items-lost',
  'excessive-outstanding-fines',
  'excessive-outstanding-fees',
  'recall-overdue',
  'too-many-items-billed',
] as const;
export type StatusFlag = (typeof STATUS_FLAGS)[number];

const tag = z.string().regex(/^[A-Z][A-Z0-9]$/, 'a two-character SIP2 field tag such as "XI"');

const compiles = (source: string): boolean => {
  try {
    new RegExp(source, 'i');
    return true;
  } catch {
    return false;
  }
};
const pattern = z.string().min(1).refine(compiles, 'a valid regular expression');

// SIP2 cannot carry `|` or control characters inside a field (SIP2.md).
const sipText = z
  .string()
  .max(255)
  .refine(
    (v) => !v.includes('|') && !hasControlCharacter(v),
    'no "|" and no control characters (SIP2 cannot carry them)',
  );

const tlsSchema = z
  .strictObject({
    ca: z
      .string()
      .min(1)
      .optional()
      .describe('PEM file with the CA(s) that signed the server certificate; default: the system CAs'),
    cert: z
      .string()
      .min(1)
      .optional()
      .describe('PEM file with a client certificate, for servers (or stunnel) that ask for one'),
    key: z.string().min(1).optional().describe('PEM file with the private key of `cert`'),
    rejectUnauthorized: z
      .boolean()
      .default(true)
      .describe('verify the server certificate and host name; turn off only against a test server'),
    servername: z.string().min(1).optional().describe('name the certificate must carry (and SNI); default: `host`'),
  })
  .superRefine((t, ctx) => {
    if ((t.cert === undefined) !== (t.key === undefined)) {
      ctx.addIssue({ code: 'custom', message: '`cert` and `key` go together', path: ['key'], input: t.key });
    }
  });

const serverSchema = z
  .strictObject({
    host: z.string().min(1).describe('host name or address of the SIP2 server'),
    port: z.number().int().min(1).max(65535).default(6001).describe('TCP port'),
    tls: tlsSchema
      .optional()
      .describe('connect with TLS (SIP2 has no encryption of its own: sites use native TLS or stunnel)'),
    allowInsecure: z
      .boolean()
      .default(false)
      .describe('allow plain TCP when `tls` is absent; card numbers and PINs then cross the network in clear'),
  })
  .superRefine((s, ctx) => {
    if (s.tls === undefined && !s.allowInsecure) {
      ctx.addIssue({
        code: 'custom',
        message:
          'plain TCP sends card numbers and PINs in clear: add `tls`, or set `allowInsecure: true` on a trusted network',
        path: ['tls'],
        input: undefined,
      });
    }
  });

const messageSchema = z
  .union([z.literal(63), z.literal(23), z.literal('63'), z.literal('23')])
  .transform((v) => String(v) as '63' | '23');

export const sip2OptionsSchema = z.strictObject({
  servers: z
    .array(serverSchema)
    .min(1, 'at least one server')
    .describe('SIP2 servers, tried in order when one does not answer'),
  login: z
    .strictObject({
      user: sipText.min(1).describe('CN: the self-check account the ILS created for the broker'),
      password: secretSchema.describe('CO: its password'),
      location: sipText.optional().describe('CP: location code, where the ILS wants one'),
    })
    .optional()
    .describe('send a 93 login on each connection; a refused login is reported as a configuration error'),
  institution: sipText.default('').describe('AO: institution id sent with every request'),
  terminalPassword: secretSchema.optional().describe('AC: terminal password; default: empty'),
  message: messageSchema
    .default('63')
    .describe('`63` patron information, or `23` patron status for servers that only answer that'),
  language: z
    .string()
    .regex(/^\d{3}$/, 'three digits')
    .default('001')
    .describe('language code sent in requests (001: English)'),
  errorDetection: z
    .boolean()
    .default(true)
    .describe('send AY/AZ (sequence number and checksum) and require a valid checksum on every reply'),
  encoding: z
    .enum(SIP2_ENCODINGS)
    .default('utf-8')
    .describe(
      'character set of the server (`utf-8`, `cp850` as the spec says, or `latin1`); checksums are over its bytes',
    ),
  scStatus: z
    .boolean()
    .default(true)
    .describe('send a 99 SC status after login on each connection, and as the keep-alive of idle ones'),
  endSession: z.boolean().default(false).describe('send a 35 end patron session after each check'),
  poolSize: z
    .number()
    .int()
    .min(1)
    .max(32)
    .default(4)
    .describe('persistent connections per server; each carries one request at a time (SIP2 has no request ids)'),
  connectTimeout: z
    .number()
    .positive()
    .max(120)
    .default(5)
    .describe('seconds to wait for a connection (and TLS handshake)'),
  timeout: z.number().positive().max(120).default(5).describe('seconds to wait for each reply'),
  retries: z
    .number()
    .int()
    .min(0)
    .max(5)
    .default(1)
    .describe('how often a message is resent after a 96, or a reply re-requested with 97 after a bad checksum'),
  keepAlive: z
    .number()
    .min(0)
    .default(25)
    .describe(
      'seconds an idle connection waits before a keep-alive 99 (or, with `scStatus` off, before it is closed); 0: never. Keep it below the server’s idle timeout (60 s in Evergreen’s sample configuration): at or above it the server closes idle connections first and every sign-in after a pause reconnects and logs in again',
    ),
  clearLastReply: z
    .boolean()
    .default(true)
    .describe(
      'after each patron request, exchange a 99 before the connection rests or closes, so the server’s last reply names no patron: some servers (Evergreen’s SIPServer) re-send their last reply to a 97 from any new connection. Turn off only for a server that cannot answer 99',
    ),
  verifyPatronId: z
    .boolean()
    .default(true)
    .describe(
      'require the reply’s AA to name the card sent (after normalising), so a reply meant for another request is never used; turn off for servers that answer with another identifier (e.g. Koha when patrons type a user name)',
    ),
  stableIdField: tag
    .optional()
    .describe('field holding the permanent patron id (e.g. `XI`); default: the card as returned in AA, normalised'),
  attributes: z
    .record(z.string().regex(/^[A-Za-z][A-Za-z0-9]*$/, 'an attribute name'), tag)
    .default({})
    .describe('patron attributes read from reply fields, e.g. `{ patronClass: PC, homeLibrary: AQ }`'),
  blocking: z
    .strictObject({
      flags: z
        .array(z.enum(STATUS_FLAGS))
        .default(['charge-privileges-denied', 'card-reported-lost'])
        .describe('status flags that block sign-in'),
      afPattern: pattern
        .optional()
        .describe('case-insensitive regular expression: an AF screen message it matches blocks'),
      feesOverLimit: z.boolean().default(false).describe('block when the fee amount (BV) exceeds the fee limit (CC)'),
      feeLimit: z
        .number()
        .nonnegative()
        .optional()
        .describe('block when BV exceeds this amount, for servers that send no CC'),
    })
    .prefault({})
    .describe('when a patron whose PIN is right is `blocked`'),
  expiry: z
    .strictObject({
      field: tag.optional().describe('field with the expiry date: `PA` for Koha and Evergreen, `PX` for Polaris'),
      formats: z
        .array(z.string().refine(isDateFormat, 'a date format with YYYY, MM and DD (and optionally HH, mm, ss, ZZZZ)'))
        .min(1)
        .default([...DEFAULT_DATE_FORMATS])
        .describe('formats of that date, tried in order; a date that matches none makes the reply unusable'),
      afPattern: pattern
        .optional()
        .describe('case-insensitive regular expression: an AF screen message it matches means expired'),
      expiredFlagField: tag.optional().describe('field that is `Y` when the card has expired, e.g. `PY` for Polaris'),
    })
    .prefault({})
    .describe('when a patron whose PIN is right is `expired` (checked before blocking)'),
});

export type Sip2Options = z.infer<typeof sip2OptionsSchema>;
export type Sip2ServerOptions = Sip2Options['servers'][number];
