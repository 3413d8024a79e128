// The few messages the broker sends, and readers for the server's status
// replies. Field layouts from the 3M SIP2 specification (SIP2.md, "Messages
// used for authentication").
import { firstField, type Sip2Message, type Sip2Request, sipTimestamp } from './message.ts';

export function loginRequest(user: string, password: string, location?: string): Sip2Request {
  // UID and PWD algorithms `0`: not encrypted (the spec defines no other).
  const fields: [string, string][] = [
    ['CN', user],
    ['CO', password],
  ];
  if (location !== undefined) fields.push(['CP', location]);
  return { code: '93', fixed: '00', fields };
}

// Status `0` (SC unit OK), the printer width and protocol version 2.00.
export function scStatusRequest(printWidth = '040'): Sip2Request {
  return { code: '99', fixed: `0${printWidth}2.00`, fields: [] };
}

export interface PatronQuery {
  institution: string;
  card: string;
  pin: string;
  terminalPassword: string;
  language: string;
  now: Date;
}

// AD is always sent: Koha and Evergreen only answer CQ when it is (SIP2.md).
function patronFields(q: PatronQuery): [string, string][] {
  return [
    ['AO', q.institution],
    ['AA', q.card],
    ['AC', q.terminalPassword],
    ['AD', q.pin],
  ];
}

export function patronInformationRequest(q: PatronQuery): Sip2Request {
  // Summary: ten blanks, so no item lists come back.
  return { code: '63', fixed: `${q.language}${sipTimestamp(q.now)}${' '.repeat(10)}`, fields: patronFields(q) };
}

export function patronStatusRequest(q: PatronQuery): Sip2Request {
  return { code: '23', fixed: `${q.language}${sipTimestamp(q.now)}`, fields: patronFields(q) };
}

// Without AD: the answer is already in, and the PIN need not cross the wire
// twice (the spec makes AD optional here).
export function endSessionRequest(q: PatronQuery): Sip2Request {
  return { code: '35', fixed: sipTimestamp(q.now), fields: patronFields(q).filter(([tag]) => tag !== 'AD') };
}

export const RESPONSE_TO: Readonly<Record<string, string>> = {
  '23': '24',
  '35': '36',
  '63': '64',
  '93': '94',
  '99': '98',
};

// Positions of the BX "supported messages" field of a 98.
export const SUPPORTED_MESSAGES = [
  'patron status',
  'checkout',
  'checkin',
  'block patron',
  'sc/acs status',
  'resend',
  'login',
  'patron information',
  'end patron session',
  'fee paid',
  'item information',
  'item status update',
  'patron enable',
  'hold',
  'renew',
  'renew all',
] as const;

export interface AcsStatus {
  online: boolean;
  protocol: string;
  institution?: string;
  library?: string;
  // Undefined when the server sent no BX.
  supported?: string[];
}

export function readAcsStatus(m: Sip2Message): AcsStatus {
  const bx = firstField(m, 'BX');
  const status: AcsStatus = { online: m.fixed[0] === 'Y', protocol: m.fixed.slice(30, 34).trim() };
  const institution = firstField(m, 'AO');
  const library = firstField(m, 'AM');
  if (institution !== undefined) status.institution = institution;
  if (library !== undefined) status.library = library;
  if (bx !== undefined) status.supported = SUPPORTED_MESSAGES.filter((_, i) => bx[i] === 'Y');
  return status;
}
