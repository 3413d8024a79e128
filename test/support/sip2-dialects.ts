// How the simulated ILSes answer 63/23: the patron fixture and four
// dialects, each written from SIP2.md's account of real servers.
//
// - koha:      CQ only when AD is sent (also for unknown cards, as N); AF
//              texts for unknown, expired and restricted patrons; PA expiry
//              as YYYYMMDD when the patron has one; no internal id.
// - evergreen: unknown card → BLN, empty AE, `YYYY` + blanks, no CQ at all;
//              a 63 without AD gets no CQ; PA as a SIP timestamp; XI id.
// - polaris:   PX expiry (SIP timestamp) and PY expired flag; PA carries
//              something that is not a date.
// - broken:    koha, but an unknown card gets neither BL nor CQ and blank
//              status flags: a client that treats a missing CQ as "not N"
//              lets made-up cards in.
import { CONFORMANCE_CARDS } from '../conformance/cards.ts';

export type Sip2Dialect = 'koha' | 'evergreen' | 'polaris' | 'broken';
export const SIP2_DIALECTS: readonly Sip2Dialect[] = ['koha', 'evergreen', 'polaris', 'broken'];

export interface SimPatron {
  card: string;
  // Undefined: the patron has no PIN, and the server accepts an empty AD.
  pin?: string;
  // The ILS record id (sent as XI by the evergreen dialect).
  id: string;
  name: string;
  state?: 'active' | 'expired' | 'blocked-flags' | 'blocked-fees';
  // 14 status characters, overriding what `state` implies.
  flags?: string;
  currency?: string;
  fees?: string;
  feeLimit?: string;
  email?: string;
  // YYYY-MM-DD; default: 2020-01-31 when expired, else 2099-12-31.
  expires?: string;
  screenMessages?: string[];
}

// The conformance fixture. Cards never reach a log; they are test data.
// The fees patron has no status flag set, so only a fee rule blocks it.
export const SIP2_PATRONS: readonly SimPatron[] = [
  {
    card: '21234000000001',
    pin: '1234',
    id: 'p-0001',
    name: 'Ada Active',
    email: 'ada@example.org',
    currency: 'USD',
    fees: '0.00',
    expires: '2099-12-31',
  },
  {
    card: '21234000000002',
    pin: '2345',
    id: 'p-0002',
    name: 'Otto Other',
    currency: 'USD',
    fees: '1.50',
    feeLimit: '10.00',
  },
  { card: '21234000000003', pin: '3456', id: 'p-0003', name: 'Bea Blocked', state: 'blocked-flags' },
  { card: '21234000000004', pin: '4567', id: 'p-0004', name: 'Ed Expired', state: 'expired' },
  {
    card: '21234000000005',
    pin: '5678',
    id: 'p-0005',
    name: 'Fay Fees',
    state: 'blocked-fees',
    currency: 'USD',
    fees: '25.00',
    feeLimit: '5.00',
  },
  { card: '21234000000006', id: 'p-0006', name: 'Nell NoPin' },
];

export const SIP2_CARDS = {
  ...CONFORMANCE_CARDS,
  blockedByFees: { card: '21234000000005', pin: '5678' },
  noPin: { card: '21234000000006', pin: '' },
} as const;

export interface PatronRequest {
  code: '63' | '23';
  language: string;
  fields: Map<string, string>;
}

const BLANK_FLAGS = ' '.repeat(14);
const DENIED_FLAGS = `YYYY${' '.repeat(10)}`;

const two = (n: number) => String(n).padStart(2, '0');
export function simTimestamp(d: Date): string {
  return `${d.getFullYear()}${two(d.getMonth() + 1)}${two(d.getDate())}    ${two(d.getHours())}${two(d.getMinutes())}${two(d.getSeconds())}`;
}

function expiryOf(p: SimPatron): string {
  return p.expires ?? (p.state === 'expired' ? '2020-01-31' : '2099-12-31');
}

function flagsOf(p: SimPatron): string {
  if (p.flags !== undefined) return p.flags;
  return p.state === 'expired' || p.state === 'blocked-flags' ? DENIED_FLAGS : BLANK_FLAGS;
}

const field = (tag: string, value: string) => `${tag}${value}|`;
const maybe = (tag: string, value: string | undefined) => (value ? field(tag, value) : '');

function pinOk(p: SimPatron, ad: string | undefined): boolean {
  return p.pin === undefined ? (ad ?? '') === '' : ad === p.pin;
}

function screenMessages(p: SimPatron, dialect: Sip2Dialect): string[] {
  const extra: string[] = [];
  if (p.state === 'expired') extra.push(dialect === 'evergreen' ? 'Patron expired' : 'Patron account has expired');
  if (p.state === 'blocked-flags') extra.push(dialect === 'evergreen' ? 'ACCOUNT LOCKED' : 'Patron is restricted');
  return [...(p.screenMessages ?? []), ...extra];
}

// The body (code, fixed part, fields) of the 64 or 24 for `request`.
export function patronReply(
  dialect: Sip2Dialect,
  request: PatronRequest,
  patron: SimPatron | undefined,
  institution: string,
  now: Date,
): string {
  const f = request.fields;
  const ad = f.get('AD');
  const head = (flags: string) =>
    (request.code === '63' ? '64' : '24') +
    flags +
    request.language +
    simTimestamp(now) +
    (request.code === '63' ? '0000'.repeat(6) : '');
  const inst = field('AO', institution);

  if (!patron) {
    const echo = field('AA', f.get('AA') ?? '') + field('AE', '');
    if (dialect === 'evergreen') return head(DENIED_FLAGS) + inst + echo + field('BL', 'N');
    if (dialect === 'broken') return head(BLANK_FLAGS) + inst + echo + field('AF', 'Invalid patron');
    const cq = ad !== undefined ? field('CQ', 'N') : '';
    const af = dialect === 'polaris' ? 'Patron not found' : 'Invalid cardnumber';
    return head(DENIED_FLAGS) + inst + echo + field('BL', 'N') + cq + field('AF', af);
  }

  const ok = pinOk(patron, ad);
  // Evergreen answers CQ to a 23 always, to a 63 only when AD was sent;
  // the koha-like dialects only when AD was sent.
  const sendCq = ad !== undefined || (dialect === 'evergreen' && request.code === '23');
  let body =
    head(flagsOf(patron)) +
    inst +
    field('AA', patron.card) +
    field('AE', patron.name) +
    field('BL', 'Y') +
    (sendCq ? field('CQ', ok ? 'Y' : 'N') : '') +
    maybe('BH', patron.currency) +
    maybe('BV', patron.fees) +
    maybe('CC', patron.feeLimit) +
    maybe('BE', patron.email);
  const expiry = expiryOf(patron);
  const compact = expiry.replaceAll('-', '');
  if (dialect === 'evergreen') body += field('PA', `${compact}    235959`) + field('XI', patron.id);
  else if (dialect === 'polaris') {
    body +=
      field('PA', '3') + field('PX', `${compact}    235959`) + field('PY', patron.state === 'expired' ? 'Y' : 'N');
  } else if (patron.expires !== undefined || patron.state === 'expired') body += field('PA', compact);
  for (const message of screenMessages(patron, dialect)) body += field('AF', message);
  return body;
}
