// Escaping a patron's card where it enters an LDAP protocol element. Pure:
// the tables in test/unit/auth/ldap/escape.test.ts pin every rule.
//
// A card such as `*)(uid=*` must never widen a search, and `x,ou=admins`
// must never change which entry a DN names.

export const CARD_PLACEHOLDER = '{card}';

const hex = (code: number): string => `\\${code.toString(16).padStart(2, '0')}`;

// RFC 4515 section 3: in an assertion value, NUL, `(`, `)`, `*` and `\` must
// be written as `\XX`. Other octets may be; we also escape ASCII control
// characters so a filter never carries a raw CR or DEL into a log or a
// server's parser. Non-ASCII characters stay as UTF-8, which the RFC allows.
export function escapeFilterValue(value: string): string {
  let out = '';
  for (const ch of value) {
    const code = ch.codePointAt(0) ?? 0;
    out += code < 0x20 || code === 0x7f || '*()\\'.includes(ch) ? hex(code) : ch;
  }
  return out;
}

// RFC 4514 section 2.4: in an attribute value, `"`, `+`, `,`, `;`, `<`, `>`
// and `\` are escaped with a backslash, as are a leading space or `#` and a
// trailing space; NUL becomes `\00`. `=` may be escaped (section 3,
// `special`) and is, because some servers' parsers mistake it for a new
// attribute type. Control characters are written as `\XX` for the same
// reason as in filters.
export function escapeDnValue(value: string): string {
  const chars = [...value];
  return chars
    .map((ch, i) => {
      const code = ch.codePointAt(0) ?? 0;
      if (code < 0x20 || code === 0x7f) return hex(code);
      if ('"+,;<>\\='.includes(ch)) return `\\${ch}`;
      if (i === 0 && (ch === ' ' || ch === '#')) return `\\${ch}`;
      if (i === chars.length - 1 && ch === ' ') return `\\${ch}`;
      return ch;
    })
    .join('');
}

// Every `{card}` in the template replaced by the already-escaped value.
// split/join rather than String.replace: a `$&` in a card must stay literal.
export function fillTemplate(template: string, escapedCard: string): string {
  return template.split(CARD_PLACEHOLDER).join(escapedCard);
}

export const filterFor = (template: string, card: string): string => fillTemplate(template, escapeFilterValue(card));
export const dnFor = (template: string, card: string): string => fillTemplate(template, escapeDnValue(card));
