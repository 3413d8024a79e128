import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dnFor, escapeDnValue, escapeFilterValue, fillTemplate, filterFor } from '../../../../src/auth/ldap/escape.ts';
import { type Filter, parseFilter } from '../../../../src/auth/ldap/filter.ts';

describe('RFC 4515 filter value escaping', () => {
  it.each([
    ['21234000000001', '21234000000001'],
    ['*', '\\2a'],
    ['(', '\\28'],
    [')', '\\29'],
    ['\\', '\\5c'],
    ['\u0000', '\\00'],
    ['*)(uid=*', '\\2a\\29\\28uid=\\2a'],
    [')(|(uid=*))', '\\29\\28|\\28uid=\\2a\\29\\29'],
    ['\\2a', '\\5c2a'],
    ['a\rb', 'a\\0db'],
    ['\u007f', '\\7f'],
    ['x,ou=admins', 'x,ou=admins'], // harmless in a filter value
    ['AA|AD', 'AA|AD'],
    ['Jürgen', 'Jürgen'], // UTF-8 stays as is (RFC 4515 UTFMB)
  ])('%j → %j', (input, expected) => {
    expect(escapeFilterValue(input)).toBe(expected);
  });

  it('fills every placeholder, and a "$&" in a card stays literal', () => {
    expect(filterFor('(|(uid={card})(employeeNumber={card}))', '$&*')).toBe('(|(uid=$&\\2a)(employeeNumber=$&\\2a))');
    expect(fillTemplate('{card}@x', "$'")).toBe("$'@x");
  });

  // The injection property: whatever the card, the filter parses to the
  // template's own shape, with the card's exact bytes as the value.
  it('never changes the shape of the filter, for any card', () => {
    const template = '(&(objectClass=person)(|(uid={card})(employeeNumber={card})))';
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (card) => {
        const f = parseFilter(filterFor(template, card));
        const value = Buffer.from(card, 'utf8');
        const expected: Filter = {
          type: 'and',
          filters: [
            { type: 'equality', attribute: 'objectClass', value: Buffer.from('person') },
            {
              type: 'or',
              filters: [
                { type: 'equality', attribute: 'uid', value },
                { type: 'equality', attribute: 'employeeNumber', value },
              ],
            },
          ],
        };
        expect(f).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps a substring template a substring of the literal card', () => {
    expect(parseFilter(filterFor('(cn=*{card}*)', 'a*b'))).toEqual({
      type: 'substrings',
      attribute: 'cn',
      any: [Buffer.from('a*b')],
    });
  });
});

// A reference reader of RFC 4514 values, to check escaping round-trips and
// never introduces an unescaped separator.
function splitRdns(dn: string): string[] {
  return dn.split(/(?<!(?:^|[^\\])(?:\\\\)*\\)[,+]/);
}
function unescapeDnValue(value: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i += 1) {
    const ch = value[i] as string;
    if (ch === '\\') {
      const hex = value.slice(i + 1, i + 3);
      if (/^[0-9a-f]{2}$/i.test(hex)) {
        bytes.push(Number.parseInt(hex, 16));
        i += 2;
      } else {
        bytes.push(...Buffer.from(value[i + 1] as string));
        i += 1;
      }
    } else {
      const cp = value.codePointAt(i) as number;
      const s = String.fromCodePoint(cp);
      bytes.push(...Buffer.from(s));
      i += s.length - 1;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

describe('RFC 4514 DN value escaping', () => {
  it.each([
    ['21234000000001', '21234000000001'],
    ['x,ou=admins', 'x\\,ou\\=admins'],
    ['a+b', 'a\\+b'],
    ['a"b;c<d>e', 'a\\"b\\;c\\<d\\>e'],
    ['\\', '\\\\'],
    ['#1', '\\#1'],
    ['1#', '1#'],
    [' a ', '\\ a\\ '],
    ['a b', 'a b'],
    ['\u0000', '\\00'],
    ['a\rb', 'a\\0db'],
    ['*)(uid=*', '*)(uid\\=*'],
    ['Jürgen', 'Jürgen'],
  ])('%j → %j', (input, expected) => {
    expect(escapeDnValue(input)).toBe(expected);
  });

  it('never adds an RDN and always reads back as the card, for any card', () => {
    const template = 'uid={card},ou=patrons,dc=library,dc=org';
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }), (card) => {
        const rdns = splitRdns(dnFor(template, card));
        expect(rdns).toHaveLength(4);
        expect(rdns.slice(1)).toEqual(['ou=patrons', 'dc=library', 'dc=org']);
        const first = rdns[0] as string;
        expect(first.startsWith('uid=')).toBe(true);
        expect(unescapeDnValue(first.slice(4))).toBe(card);
      }),
      { numRuns: 300 },
    );
  });
});
