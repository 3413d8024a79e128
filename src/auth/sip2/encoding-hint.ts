// Names a likely encoding mismatch behind a bad checksum. Checksums are over
// bytes (SIP2.md), but some servers compute them over their decoded text:
// when the broker and the server disagree on the encoding, every reply with
// a non-ASCII character then fails the check and looks like an outage
// (issue 13). If the checksum matches the frame's text read in another
// encoding, that encoding is named.
import { decodeText, encodeText, SIP2_ENCODINGS, type Sip2Encoding } from './encoding.ts';

const sum = (values: Iterable<number>): number => {
  let s = 0;
  for (const v of values) s += v;
  return s;
};

// `frame`: the bytes before CR, ending in `AZxxxx`.
export function encodingHint(frame: Uint8Array, configured: Sip2Encoding): string | undefined {
  const n = frame.length;
  if (n < 6 || !frame.subarray(0, n - 6).some((b) => b >= 0x80)) return undefined;
  const digits = Number.parseInt(Buffer.from(frame.subarray(n - 4)).toString('latin1'), 16);
  if (Number.isNaN(digits)) return undefined;
  const matches = (total: number) => ((total + digits) & 0xffff) === 0;
  for (const read of SIP2_ENCODINGS) {
    const text = decodeText(frame.subarray(0, n - 4), read);
    if (read === configured && !matches(sum([...text].map((ch) => ch.codePointAt(0) ?? 0)))) continue;
    const candidates: number[] = [sum([...text].map((ch) => ch.codePointAt(0) ?? 0))];
    for (const again of SIP2_ENCODINGS) {
      const bytes = encodeText(text, again);
      if (bytes) candidates.push(sum(bytes));
    }
    if (candidates.some(matches)) return `it matches the text read as ${read}: check encoding`;
  }
  return undefined;
}

// For `patronym check`: what the 98's text (institution, library name) says
// about the server's encoding, when it has non-ASCII characters.
export function textEncodingWarning(text: string, configured: Sip2Encoding): string | undefined {
  if (configured === 'utf-8') {
    return text.includes('\uFFFD') ? "text that is not UTF-8: is the server's encoding cp850 or latin1?" : undefined;
  }
  const bytes = encodeText(text, configured);
  if (!bytes?.some((b) => b >= 0x80)) return undefined;
  try {
    const read = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return read.length < text.length ? "text that looks like UTF-8: is the server's encoding utf-8?" : undefined;
  } catch {
    return undefined;
  }
}
