// Text ↔ bytes for SIP2. The spec's default character set is CP850; many
// servers use UTF-8, some Latin-1. Checksums are over the encoded bytes
// (SIP2.md, "Framing"), so encoding happens before the checksum and a
// character that has no byte in the chosen set is refused, never replaced:
// a silently altered PIN would be compared against the wrong value.

export type Sip2Encoding = 'utf-8' | 'cp850' | 'latin1';
export const SIP2_ENCODINGS: readonly Sip2Encoding[] = ['utf-8', 'cp850', 'latin1'];

// Bytes 0x80–0xFF of IBM code page 850, in order.
const CP850_HIGH =
  'ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜø£Ø×ƒáíóúñÑªº¿®¬½¼¡«»░▒▓│┤ÁÂÀ©╣║╗╝¢¥┐' +
  '└┴┬├─┼ãÃ╚╔╩╦╠═╬¤ðÐÊËÈıÍÎÏ┘┌█▄¦Ì▀ÓßÔÒõÕµþÞÚÛÙýÝ¯´\u00ad±‗¾¶§÷¸°¨·¹³²■\u00a0';

const CP850_BYTE = new Map<string, number>([...CP850_HIGH].map((ch, i) => [ch, 0x80 + i]));

// Encodes `text`, or returns undefined when a character cannot be encoded.
export function encodeText(text: string, encoding: Sip2Encoding): Buffer | undefined {
  if (!text.isWellFormed()) return undefined;
  if (encoding === 'utf-8') return Buffer.from(text, 'utf8');
  const out = Buffer.alloc(text.length);
  let i = 0;
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    let byte: number | undefined;
    if (code < 0x80) byte = code;
    else if (encoding === 'latin1') byte = code <= 0xff ? code : undefined;
    else byte = CP850_BYTE.get(ch);
    if (byte === undefined) return undefined;
    out[i++] = byte;
  }
  return out.subarray(0, i);
}

// Decodes leniently: a server's bytes are untrusted, and an undecodable byte
// becomes U+FFFD rather than an exception.
export function decodeText(bytes: Uint8Array, encoding: Sip2Encoding): string {
  if (encoding === 'utf-8') return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  if (encoding === 'latin1') return Buffer.from(bytes).toString('latin1');
  let text = '';
  for (const byte of bytes) text += byte < 0x80 ? String.fromCharCode(byte) : CP850_HIGH[byte - 0x80];
  return text;
}
