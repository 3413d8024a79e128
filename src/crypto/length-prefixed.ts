// The unambiguous encoding of every HMAC input in Patronym (accountId,
// pseudonym, handles, CSRF tokens, device cookies): each string as a 4-byte
// big-endian length followed by its UTF-8 bytes, so ("ab","c") and
// ("a","bc") differ. A leaf under everything, so pseudonym/ and security/
// can both use it without importing each other; pinned by
// test/unit/crypto/length-prefixed.test.ts and the pseudonym vectors, since
// a changed byte here changes every patron's pseudonym at every vendor.
export function lengthPrefixed(parts: readonly string[]): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const bytes = Buffer.from(part, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    chunks.push(length, bytes);
  }
  return Buffer.concat(chunks);
}
