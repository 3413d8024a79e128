// The message catalogues: every language has every message, with the same
// arguments, as valid ICU; every message is used somewhere in src/ or
// views/; the legal texts of each translation are marked for a librarian's
// review. CI runs this, so a missing or orphaned key fails the build.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { IntlMessageFormat } from 'intl-messageformat';
import { describe, expect, it } from 'vitest';
import { LOCALES } from '../../../src/locale.ts';
import { VIEWS_DIR } from '../../../src/views.ts';

const ROOT = join(VIEWS_DIR, '..');
const raw = (locale: string) =>
  JSON.parse(readFileSync(join(VIEWS_DIR, 'messages', `${locale}.json`), 'utf8')) as Record<string, unknown>;
const messagesOf = (locale: string) =>
  Object.fromEntries(Object.entries(raw(locale)).filter(([k]) => !k.startsWith('_'))) as Record<string, string>;
const english = messagesOf('en');

// Argument names and kinds (plain, plural, number, date) of a message.
function argumentsOf(text: string, locale: string): string[] {
  const found = new Set<string>();
  const walk = (elements: ReturnType<IntlMessageFormat['getAst']>) => {
    for (const e of elements) {
      if ('value' in e && e.type !== 0) found.add(`${String(e.value)}:${e.type}`);
      if ('options' in e && e.options) {
        for (const o of Object.values(e.options as Record<string, { value: typeof elements }>)) walk(o.value);
      }
    }
  };
  walk(new IntlMessageFormat(text, locale).getAst());
  return [...found].sort();
}

function files(dir: string, ext: RegExp): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'messages' ? [] : files(path, ext);
    return ext.test(name) ? [path] : [];
  });
}

describe('message catalogues', () => {
  it('has a catalogue for every supported language and nothing else', () => {
    const present = readdirSync(join(VIEWS_DIR, 'messages')).map((f) => f.replace(/\.json$/, ''));
    expect(present.sort()).toEqual([...LOCALES].sort());
  });

  for (const locale of LOCALES) {
    it(`${locale}: every message of en.json, no other, valid ICU with the same arguments`, () => {
      const messages = messagesOf(locale);
      expect(
        Object.keys(messages).filter((k) => !(k in english)),
        'keys not in en.json',
      ).toEqual([]);
      expect(
        Object.keys(english).filter((k) => !(k in messages)),
        'keys missing',
      ).toEqual([]);
      for (const [key, text] of Object.entries(messages)) {
        expect(text.trim(), key).not.toBe('');
        expect(argumentsOf(text, locale), `${locale} ${key}`).toEqual(argumentsOf(english[key] as string, 'en'));
      }
    });
  }

  for (const locale of LOCALES.filter((l) => l !== 'en')) {
    it(`${locale}: the legal and privacy texts are marked for a librarian's review`, () => {
      const review = raw(locale)._review as string[];
      expect(Array.isArray(review)).toBe(true);
      const marked = (key: string) =>
        review.some((r) => (r.endsWith('*') ? key.startsWith(r.slice(0, -1)) : key === r));
      for (const key of Object.keys(english).filter((k) => /^(privacy|cookie|consent)\./.test(k))) {
        expect(marked(key), `${locale} ${key}`).toBe(true);
      }
      for (const r of review) {
        expect(
          Object.keys(english).some((k) => marked(k) && (r.endsWith('*') || k === r)),
          r,
        ).toBe(true);
      }
    });
  }

  it('uses every message somewhere in src/ or views/', () => {
    const sources = [...files(join(ROOT, 'src'), /\.ts$/), ...files(VIEWS_DIR, /\.eta$/)].map((f) => ({
      file: relative(ROOT, f),
      text: readFileSync(f, 'utf8'),
    }));
    const all = sources.map((s) => s.text).join('\n');
    // Keys built at run time (`outcome.${reason}`) count by their prefix.
    const prefixes = [...all.matchAll(/[`'"]([a-z-]+\.(?:[a-z-]+\.)*)\$\{/g)].map((m) => m[1] as string);
    const unused = Object.keys(english).filter(
      (key) => !all.includes(`'${key}'`) && !all.includes(`"${key}"`) && !prefixes.some((p) => key.startsWith(p)),
    );
    expect(unused).toEqual([]);
  });
});
