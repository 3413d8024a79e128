// LDAP search filters: the RFC 4515 string form parsed, and encoded as the
// RFC 4511 section 4.5.1.7 BER the server receives. Ours rather than
// ldapjs's because ldapjs 3 sends `\XX` escapes as the literal characters
// (`(uid=\2a)` goes out as the five bytes `\2a`), so an escaped value would
// never match, and an administrator's `\2c` in a group DN would silently
// fail. Pure; tested with tables and properties.
import { PatronymError } from '../../errors.ts';

export type Filter =
  | { type: 'and' | 'or'; filters: Filter[] }
  | { type: 'not'; filter: Filter }
  | { type: 'equality' | 'approx' | 'ge' | 'le'; attribute: string; value: Buffer }
  | { type: 'present'; attribute: string }
  | { type: 'substrings'; attribute: string; initial?: Buffer; any: Buffer[]; final?: Buffer }
  | { type: 'extensible'; attribute?: string; rule?: string; dnAttributes: boolean; value: Buffer };

class FilterSyntaxError extends PatronymError {
  override readonly name = 'FilterSyntaxError';
  constructor(message: string) {
    super('ldap_filter_syntax', message);
  }
}

// RFC 4512 section 2.5: descr or numericoid, then options.
const ATTRIBUTE = /^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)+)(?:;[A-Za-z0-9-]+)*/;
const RULE = /^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)+)/;

class Parser {
  #pos = 0;
  readonly #text: string;
  constructor(text: string) {
    this.#text = text;
  }

  #fail(what: string): never {
    throw new FilterSyntaxError(`${what} at offset ${this.#pos}`);
  }

  #eat(ch: string): void {
    if (this.#text[this.#pos] !== ch) this.#fail(`expected "${ch}"`);
    this.#pos += 1;
  }

  parseAll(): Filter {
    const filter = this.#filter();
    if (this.#pos !== this.#text.length) this.#fail('unexpected text after the filter');
    return filter;
  }

  // filter = "(" filtercomp ")"
  #filter(): Filter {
    this.#eat('(');
    const c = this.#text[this.#pos];
    let f: Filter;
    if (c === '&' || c === '|') {
      this.#pos += 1;
      const filters: Filter[] = [];
      while (this.#text[this.#pos] === '(') filters.push(this.#filter());
      if (filters.length === 0) this.#fail('empty filter list');
      f = { type: c === '&' ? 'and' : 'or', filters };
    } else if (c === '!') {
      this.#pos += 1;
      f = { type: 'not', filter: this.#filter() };
    } else {
      f = this.#item();
    }
    this.#eat(')');
    return f;
  }

  #match(re: RegExp): string | undefined {
    const m = re.exec(this.#text.slice(this.#pos));
    if (!m) return undefined;
    this.#pos += m[0].length;
    return m[0];
  }

  #item(): Filter {
    const attribute = this.#match(ATTRIBUTE);
    if (this.#text[this.#pos] === ':') return this.#extensible(attribute);
    if (attribute === undefined) this.#fail('expected an attribute description');
    const op = this.#match(/^(?:=|~=|>=|<=)/);
    if (op === undefined) this.#fail('expected "=", "~=", ">=" or "<="');
    const parts = this.#value(op === '=');
    if (op !== '=')
      return { type: op === '~=' ? 'approx' : op === '>=' ? 'ge' : 'le', attribute, value: parts[0] as Buffer };
    if (parts.length === 1) return { type: 'equality', attribute, value: parts[0] as Buffer };
    if (parts.length === 2 && parts[0]?.length === 0 && parts[1]?.length === 0) return { type: 'present', attribute };
    // substring = attr "=" [initial] any [final]; empty pieces are absent.
    const first = parts[0] as Buffer;
    const last = parts[parts.length - 1] as Buffer;
    const middle = parts.slice(1, -1);
    if (middle.some((p) => p.length === 0)) this.#fail('"**" in a substring filter');
    const f: Filter = { type: 'substrings', attribute, any: middle };
    if (first.length > 0) f.initial = first;
    if (last.length > 0) f.final = last;
    return f;
  }

  // extensible = attr [":dn"] [":" rule] ":=" value / [":dn"] ":" rule ":=" value
  #extensible(attribute: string | undefined): Filter {
    const dnAttributes = this.#match(/^:dn(?=:)/i) !== undefined;
    let rule: string | undefined;
    if (this.#text.startsWith(':=', this.#pos) === false) {
      this.#eat(':');
      rule = this.#match(RULE);
      if (rule === undefined) this.#fail('expected a matching rule');
    }
    if (attribute === undefined && rule === undefined) this.#fail('an extensible match needs an attribute or a rule');
    this.#eat(':');
    this.#eat('=');
    const f: Filter = { type: 'extensible', dnAttributes, value: this.#value(false)[0] as Buffer };
    if (attribute !== undefined) f.attribute = attribute;
    if (rule !== undefined) f.rule = rule;
    return f;
  }

  // RFC 4515 section 3: valueencoding = 0*(normal / escaped); NUL, "(", ")",
  // "*" and "\" only as `\XX`. An unescaped "*" splits substrings where
  // allowed. Returns the pieces, unescaped into octets.
  #value(starAllowed: boolean): Buffer[] {
    const pieces: Buffer[] = [];
    let bytes: number[] = [];
    for (;;) {
      const ch = this.#text[this.#pos];
      if (ch === undefined) this.#fail('unterminated value');
      if (ch === ')') break;
      if (ch === '(' || ch === '\u0000') this.#fail(`"${ch === '(' ? '(' : '\\0'}" must be escaped in a value`);
      if (ch === '*') {
        if (!starAllowed) this.#fail('"*" must be escaped here');
        pieces.push(Buffer.from(bytes));
        bytes = [];
        this.#pos += 1;
      } else if (ch === '\\') {
        const hex = this.#text.slice(this.#pos + 1, this.#pos + 3);
        if (!/^[0-9A-Fa-f]{2}$/.test(hex)) this.#fail('"\\" must be followed by two hex digits');
        bytes.push(Number.parseInt(hex, 16));
        this.#pos += 3;
      } else {
        const cp = this.#text.codePointAt(this.#pos) as number;
        const char = String.fromCodePoint(cp);
        bytes.push(...Buffer.from(char, 'utf8'));
        this.#pos += char.length;
      }
    }
    pieces.push(Buffer.from(bytes));
    return pieces;
  }
}

export function parseFilter(text: string): Filter {
  return new Parser(text).parseAll();
}

// --- BER (X.690) as RFC 4511 section 5.1 restricts it ---------------------

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

const tlv = (tag: number, content: Buffer): Buffer =>
  Buffer.concat([Buffer.from([tag]), length(content.length), content]);
const octets = (tag: number, value: Buffer | string): Buffer =>
  tlv(tag, typeof value === 'string' ? Buffer.from(value, 'utf8') : value);

const SIMPLE_TAGS = { equality: 0xa3, ge: 0xa5, le: 0xa6, approx: 0xa8 } as const;

export function encodeFilter(f: Filter): Buffer {
  switch (f.type) {
    case 'and':
    case 'or':
      return tlv(f.type === 'and' ? 0xa0 : 0xa1, Buffer.concat(f.filters.map(encodeFilter)));
    case 'not':
      return tlv(0xa2, encodeFilter(f.filter));
    case 'equality':
    case 'ge':
    case 'le':
    case 'approx':
      return tlv(SIMPLE_TAGS[f.type], Buffer.concat([octets(0x04, f.attribute), octets(0x04, f.value)]));
    case 'present':
      return octets(0x87, f.attribute);
    case 'substrings': {
      const subs = [
        ...(f.initial ? [octets(0x80, f.initial)] : []),
        ...f.any.map((a) => octets(0x81, a)),
        ...(f.final ? [octets(0x82, f.final)] : []),
      ];
      return tlv(0xa4, Buffer.concat([octets(0x04, f.attribute), tlv(0x30, Buffer.concat(subs))]));
    }
    case 'extensible':
      return tlv(
        0xa9,
        Buffer.concat([
          ...(f.rule !== undefined ? [octets(0x81, f.rule)] : []),
          ...(f.attribute !== undefined ? [octets(0x82, f.attribute)] : []),
          octets(0x83, f.value),
          ...(f.dnAttributes ? [tlv(0x84, Buffer.from([0xff]))] : []),
        ]),
      );
  }
}
