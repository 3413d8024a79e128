// The unambiguous encoding of every HMAC input in Patronym (accountId,
// pseudonym, handles, CSRF tokens, device cookies): each string as a 4-byte
// big-endian length followed by its UTF-8 bytes, so ("ab","c") and
// ("a","bc") differ. A leaf under everything, so pseudonym/ and security/
// can both use it without importing each other; pinned by
// test/unit/crypto/length-prefixed.test.ts and the pseudonym vectors, since
// a changed byte here changes every patron's pseudonym at every vendor.
export function lengthPrefixed(parts: readonly string[]): Buffer {
  // One buffer, written in place: it runs a dozen times per sign-in.
  let size = 0;
  for (const part of parts) size += 4 + Buffer.byteLength(part, 'utf8');
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const part of parts) {
    const written = out.write(part, at + 4, 'utf8');
    out.writeUInt32BE(written, at);
    at += 4 + written;
  }
  return out;
}
