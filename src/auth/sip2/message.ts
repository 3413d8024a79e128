// SIP2 messages as bytes: framing, the AY/AZ error-detection trailer and the
// checksum. Pure functions, pinned by the verified lines in SIP2.md.
//
// A message is a 2-digit code, fixed-length fields with no separators,
// variable fields `XXvalue|`, optionally `AY<seq>AZ<checksum>`, then CR.

import { PatronymError } from '../../errors.ts';
import { decodeText, encodeText, type Sip2Encoding } from './encoding.ts';

export interface Sip2Message {
  readonly code: string;
  // The fixed-length fields, concatenated, as the spec lays them out.
  readonly fixed: string;
  // Variable fields in the order received; a tag may repeat (AF often does).
  readonly fields: readonly (readonly [tag: string, value: string])[];
  // The AY sequence number, when the message carried one.
  readonly seq?: number;
}

export type Sip2Request = Omit<Sip2Message, 'seq'>;

// Length of the fixed part of each message this project sends or reads.
export const FIXED_LENGTHS: Readonly<Record<string, number>> = {
  '23': 3 + 18, // language, transaction date
  '24': 14 + 3 + 18, // patron status, language, transaction date
  '35': 18, // transaction date
  '36': 1 + 18, // end session, transaction date
  '63': 3 + 18 + 10, // language, transaction date, summary
  '64': 14 + 3 + 18 + 6 * 4, // patron status, language, date, six counts
  '93': 1 + 1, // UID algorithm, PWD algorithm
  '94': 1, // ok
  '96': 0,
  '97': 0,
  '98': 6 + 3 + 3 + 18 + 4, // six flags, timeout, retries, date/time sync, version
  '99': 1 + 3 + 4, // status, max print width, protocol version
};

const MAX_FIELD_LENGTH = 255;

// The checksum of `bytes`: the two's complement of their 16-bit sum, as four
// upper-case hex digits. Masked, so it never grows a fifth digit.
export function checksum(bytes: Uint8Array): string {
  let sum = 0;
  for (const byte of bytes) sum += byte;
  return (-sum & 0xffff).toString(16).toUpperCase().padStart(4, '0');
}

const HEX4 = /^[0-9A-Fa-f]{4}$/;

// True when `frame` (without its CR) ends in `AZxxxx` and the bytes up to and
// including "AZ", plus the value, sum to zero modulo 2^16.
export function verifyChecksum(frame: Uint8Array): boolean {
  const n = frame.length;
  if (n < 6 || frame[n - 6] !== 0x41 || frame[n - 5] !== 0x5a) return false;
  const digits = Buffer.from(frame.subarray(n - 4)).toString('latin1');
  if (!HEX4.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < n - 4; i++) sum += frame[i] ?? 0;
  return ((sum + Number.parseInt(digits, 16)) & 0xffff) === 0;
}

// C0 controls and DEL: CR would end the message, the rest have no business
// in a field.
export function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

export type ValueProblem = 'delimiter' | 'control character' | 'too long' | 'unencodable';

// Why `value` cannot travel as a variable field, if it cannot. SIP2 has no
// escape: a `|` would end the field early and a CR the whole message
// (STYLE.md 8: escape untrusted input where it enters a protocol — here,
// refuse it).
export function valueProblem(value: string, encoding: Sip2Encoding): ValueProblem | undefined {
  if (value.includes('|')) return 'delimiter';
  if (hasControlCharacter(value)) return 'control character';
  if ([...value].length > MAX_FIELD_LENGTH) return 'too long';
  if (encodeText(value, encoding) === undefined) return 'unencodable';
  return undefined;
}

class Sip2EncodeError extends PatronymError {
  readonly tag: string;
  readonly problem: ValueProblem;
  constructor(tag: string, problem: ValueProblem) {
    // Names the field, never its value: the value may be a card or a PIN.
    super('sip2_encode', `sip2: field ${tag} cannot be sent (${problem})`);
    this.name = 'Sip2EncodeError';
    this.tag = tag;
    this.problem = problem;
  }
}

export interface EncodeOptions {
  encoding: Sip2Encoding;
  errorDetection: boolean;
  // 0–9; only with error detection. 96 and 97 never carry one (spec: "this
  // message should never include a sequence number field").
  seq?: number;
}

// The bytes of one message, CR included.
export function encodeMessage(message: Sip2Request, options: EncodeOptions): Buffer {
  let text = message.code + message.fixed;
  for (const [tag, value] of message.fields) {
    const problem = valueProblem(value, options.encoding);
    if (problem) throw new Sip2EncodeError(tag, problem);
    text += `${tag}${value}|`;
  }
  const body = encodeText(text, options.encoding);
  if (!body) throw new Sip2EncodeError(message.code, 'unencodable');
  if (!options.errorDetection) return Buffer.concat([body, Buffer.from('\r')]);
  const trailer = options.seq === undefined ? 'AZ' : `AY${options.seq % 10}AZ`;
  const head = Buffer.concat([body, Buffer.from(trailer, 'latin1')]);
  return Buffer.concat([head, Buffer.from(`${checksum(head)}\r`, 'latin1')]);
}

export type ParseResult =
  | { ok: true; message: Sip2Message; checksummed: boolean }
  | { ok: false; problem: 'checksum' | 'malformed'; detail: string };

const malformed = (detail: string): ParseResult => ({ ok: false, problem: 'malformed', detail });

// Parses one frame (the bytes before CR). Never throws: a server's bytes are
// untrusted. A trailing `AZxxxx` is verified whenever present; whether one is
// required is the caller's decision.
export function parseMessage(frame: Uint8Array, encoding: Sip2Encoding): ParseResult {
  let end = frame.length;
  let checksummed = false;
  let seq: number | undefined;
  // A trailer is "AZ" and four hex digits. Without the hex test, a message
  // sent without error detection whose last field reads "…AZ|AA|" would be
  // taken for a damaged one (encoded fields always end in "|", never a digit).
  const hex = (i: number) => /[0-9A-Fa-f]/.test(String.fromCharCode(frame[i] ?? 0));
  if (end >= 6 && frame[end - 6] === 0x41 && frame[end - 5] === 0x5a && [4, 3, 2, 1].every((k) => hex(end - k))) {
    if (!verifyChecksum(frame)) return { ok: false, problem: 'checksum', detail: 'checksum does not match' };
    checksummed = true;
    end -= 6;
    // `AY<digit>` just before AZ (with or without a `|` before it).
    const d = frame[end - 1] ?? 0;
    if (end >= 3 && frame[end - 3] === 0x41 && frame[end - 2] === 0x59 && d >= 0x30 && d <= 0x39) {
      seq = d - 0x30;
      end -= 3;
    }
  }
  const text = decodeText(frame.subarray(0, end), encoding);
  const code = text.slice(0, 2);
  if (!/^\d\d$/.test(code)) return malformed('no message code');
  const fixedLength = FIXED_LENGTHS[code];
  if (fixedLength === undefined) return malformed(`unknown message code "${code}"`);
  if (text.length < 2 + fixedLength) return malformed(`message ${code} shorter than its fixed fields`);
  const fixed = text.slice(2, 2 + fixedLength);
  const fields: [string, string][] = [];
  const pieces = text.slice(2 + fixedLength).split('|');
  for (const piece of pieces) {
    if (piece === '') continue; // trailing `|`, or `||` from sloppy servers
    if (piece.length < 2) return malformed(`message ${code} has a field without a tag`);
    fields.push([piece.slice(0, 2), piece.slice(2)]);
  }
  const message: Sip2Message = seq === undefined ? { code, fixed, fields } : { code, fixed, fields, seq };
  return { ok: true, message, checksummed };
}

export function firstField(message: Sip2Message, tag: string): string | undefined {
  return message.fields.find(([t]) => t === tag)?.[1];
}

export function allFields(message: Sip2Message, tag: string): string[] {
  return message.fields.filter(([t]) => t === tag).map(([, v]) => v);
}

// Splits a byte stream into frames. Only CR ends a message; an LF right after
// a CR (CRLF senders) is dropped as the next frame's first byte.
export class Framer {
  #pending: Buffer = Buffer.alloc(0);
  readonly #max: number;

  constructor(maxFrame = 64 * 1024) {
    this.#max = maxFrame;
  }

  // The complete frames in `chunk` (plus what came before); throws when a
  // frame grows past the limit, so a flood of bytes without CR cannot
  // exhaust memory.
  push(chunk: Uint8Array): Buffer[] {
    let data = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : Buffer.from(chunk);
    const frames: Buffer[] = [];
    for (let cr = data.indexOf(0x0d); cr !== -1; cr = data.indexOf(0x0d)) {
      const start = data[0] === 0x0a ? 1 : 0;
      if (cr > start) frames.push(data.subarray(start, cr));
      data = data.subarray(cr + 1);
    }
    if (data.length === 1 && data[0] === 0x0a) data = Buffer.alloc(0);
    if (data.length > this.#max) throw new PatronymError('sip2_failure', `sip2: frame longer than ${this.#max} bytes`);
    this.#pending = Buffer.from(data);
    return frames;
  }
}

// `YYYYMMDDZZZZHHMMSS` in local time with a blank zone, as most SIP2 clients
// and servers write it.
export function sipTimestamp(date: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return (
    `${p(date.getFullYear(), 4)}${p(date.getMonth() + 1)}${p(date.getDate())}    ` +
    `${p(date.getHours())}${p(date.getMinutes())}${p(date.getSeconds())}`
  );
}
