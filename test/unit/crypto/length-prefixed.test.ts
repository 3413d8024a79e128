// The encoding under every keyed hash (accountId, pseudonym, handles, CSRF
// tokens, device cookies): pinned byte for byte, since changing it changes
// every pseudonym, and unambiguous, since ("ab","c") and ("a","bc") must
// never hash alike.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lengthPrefixed } from '../../../src/crypto/length-prefixed.ts';

describe('lengthPrefixed', () => {
  it('writes each part as a 4-byte big-endian length and its UTF-8 bytes', () => {
    expect(lengthPrefixed(['ab', 'c']).toString('hex')).toBe('00000002616200000001' + '63');
    expect(lengthPrefixed(['a', 'bc']).toString('hex')).toBe('000000016100000002' + '6263');
    // Length in bytes, not UTF-16 units: é is two bytes, 𝄞 four.
    expect(lengthPrefixed(['é', '𝄞']).toString('hex')).toBe('00000002c3a9' + '00000004f09d849e');
    expect(lengthPrefixed(['', '']).toString('hex')).toBe('0000000000000000');
    expect(lengthPrefixed([]).length).toBe(0);
  });

  it('matches the plain encoding (length, then Buffer.from) for any UTF-16, lone surrogates included', () => {
    const plain = (parts: readonly string[]) =>
      Buffer.concat(
        parts.flatMap((part) => {
          const bytes = Buffer.from(part, 'utf8');
          const length = Buffer.alloc(4);
          length.writeUInt32BE(bytes.length);
          return [length, bytes];
        }),
      );
    const utf16 = fc.array(fc.integer({ min: 0, max: 0xffff })).map((units) => String.fromCharCode(...units));
    fc.assert(
      fc.property(fc.array(utf16), (parts) => {
        expect(lengthPrefixed(parts).toString('hex')).toBe(plain(parts).toString('hex'));
      }),
      { numRuns: 1000 },
    );
    expect(lengthPrefixed(['\uD800x']).toString('hex')).toBe('00000004efbfbd78');
  });

  it('never encodes two different lists alike', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme' })), fc.array(fc.string({ unit: 'grapheme' })), (a, b) => {
        fc.pre(JSON.stringify(a) !== JSON.stringify(b));
        expect(lengthPrefixed(a).equals(lengthPrefixed(b))).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});
