import { describe, expect, it } from 'vitest';
import { encodeFilter, parseFilter } from '../../../../src/auth/ldap/filter.ts';
import { filterProblem } from '../../../../src/auth/ldap/filter-check.ts';

const b = (s: string) => Buffer.from(s, 'utf8');
const hex = (s: string) => encodeFilter(parseFilter(s)).toString('hex');

describe('RFC 4515 filter parsing', () => {
  it.each([
    ['(uid=1)', { type: 'equality', attribute: 'uid', value: b('1') }],
    ['(uid=\\2a)', { type: 'equality', attribute: 'uid', value: b('*') }],
    ['(cn=J\\c3\\bcrgen)', { type: 'equality', attribute: 'cn', value: b('Jürgen') }],
    ['(cn=Jürgen)', { type: 'equality', attribute: 'cn', value: b('Jürgen') }],
    ['(uid=*)', { type: 'present', attribute: 'uid' }],
    ['(uid=a*)', { type: 'substrings', attribute: 'uid', initial: b('a'), any: [] }],
    ['(uid=*a*b*)', { type: 'substrings', attribute: 'uid', any: [b('a'), b('b')] }],
    ['(uid=a*b)', { type: 'substrings', attribute: 'uid', initial: b('a'), any: [], final: b('b') }],
    ['(uid>=5)', { type: 'ge', attribute: 'uid', value: b('5') }],
    ['(uid<=5)', { type: 'le', attribute: 'uid', value: b('5') }],
    ['(cn~=ada)', { type: 'approx', attribute: 'cn', value: b('ada') }],
    ['(cn;lang-de=x)', { type: 'equality', attribute: 'cn;lang-de', value: b('x') }],
    ['(2.5.4.3=x)', { type: 'equality', attribute: '2.5.4.3', value: b('x') }],
    [
      '(cn:caseExactMatch:=A)',
      { type: 'extensible', attribute: 'cn', rule: 'caseExactMatch', dnAttributes: false, value: b('A') },
    ],
    ['(ou:dn:=patrons)', { type: 'extensible', attribute: 'ou', dnAttributes: true, value: b('patrons') }],
    ['(:dn:2.5.13.5:=x)', { type: 'extensible', rule: '2.5.13.5', dnAttributes: true, value: b('x') }],
    [
      '(userAccountControl:1.2.840.113556.1.4.803:=2)',
      {
        type: 'extensible',
        attribute: 'userAccountControl',
        rule: '1.2.840.113556.1.4.803',
        dnAttributes: false,
        value: b('2'),
      },
    ],
    ['(!(a=1))', { type: 'not', filter: { type: 'equality', attribute: 'a', value: b('1') } }],
    [
      '(&(a=1)(|(b=2)(c=3)))',
      {
        type: 'and',
        filters: [
          { type: 'equality', attribute: 'a', value: b('1') },
          {
            type: 'or',
            filters: [
              { type: 'equality', attribute: 'b', value: b('2') },
              { type: 'equality', attribute: 'c', value: b('3') },
            ],
          },
        ],
      },
    ],
  ])('%s', (text, expected) => {
    expect(parseFilter(text)).toEqual(expected);
  });

  it.each([
    'uid=1', // RFC 4515 wants the parentheses
    '(uid=1',
    '(uid=1))',
    '(uid=(1)',
    '(uid=1)(uid=2)',
    '(&)',
    '(uid=\\2)',
    '(uid=\\zz)',
    '(uid>=a*)',
    '(=1)',
    '(uid=a**b)',
    '(uid:=x)x',
    '(:=x)',
    '(uid=\u0000)',
  ])('refuses %j', (text) => {
    expect(() => parseFilter(text)).toThrow();
  });
});

describe('RFC 4511 BER encoding', () => {
  it.each([
    // [3] { "uid", "1" }
    ['(uid=1)', 'a308' + '0403756964' + '040131'],
    // [7] "uid", primitive
    ['(uid=*)', '8703756964'],
    // [2] { [3] { "a", "1" } }
    ['(!(a=1))', 'a208' + 'a306040161040131'],
    ['(&(a=1)(b=2))', 'a010' + 'a306040161040131' + 'a306040162040132'],
    // [4] { "uid", SEQUENCE { initial "a", final "b" } }
    ['(uid=a*b)', 'a40d' + '0403756964' + '3006' + '800161' + '820162'],
    // [9] { rule [1], type [2], value [3] }
    ['(cn:caseExactMatch:=A)', `a917810e${Buffer.from('caseExactMatch').toString('hex')}8202636e830141`],
    // [9] { type [2], value [3], dnAttributes [4] TRUE }
    ['(ou:dn:=x)', 'a90a' + '82026f75' + '830178' + '8401ff'],
  ])('%s', (text, expected) => {
    expect(hex(text)).toBe(expected);
  });

  it('uses the long length form past 127 octets', () => {
    const long = 'x'.repeat(200);
    const encoded = encodeFilter(parseFilter(`(cn=${long})`));
    // a3 81 cf | 04 02 "cn" | 04 81 c8 <200 bytes>
    expect(encoded.subarray(0, 3).toString('hex')).toBe('a381cf');
    expect(encoded.subarray(7, 10).toString('hex')).toBe('0481c8');
    expect(encoded).toHaveLength(3 + 0xcf);
  });
});

describe('configured filter checks', () => {
  it.each([
    ['(uid={card})', true, undefined],
    ['(|(uid={card})(employeeNumber={card}))', true, undefined],
    ['(cn=*{card}*)', true, undefined],
    ['(uid=x)', true, /containing \{card\}/],
    ['({card}=x)', true, /only stand in a value/],
    ['(uid:{card}:=x)', true, /only stand in a value/],
    ['(uid={card}', true, /not a valid LDAP filter/],
    ['uid={card}', true, /not a valid LDAP filter/],
    ['(!(patronStatus=blocked))', false, undefined],
    ['(memberOf=cn=Patrons\\2c Adults,ou=groups,dc=library,dc=org)', false, undefined],
    ['(!(patronStatus=blocked)', false, /not a valid LDAP filter/],
    ['(uid={card})', false, /not allowed here/],
  ])('%s (needs card: %s)', (filter, needsCard, problem) => {
    const found = filterProblem(filter, { needsCard });
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toMatch(problem);
  });
});
