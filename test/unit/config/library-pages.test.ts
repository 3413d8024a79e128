// The library keys of the patron pages: its language, its own wording, its
// keyboards and its dark colours, checked at start-up like everything else.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { authenticatorKinds } from '../../../src/auth/registry.ts';
import { ConfigError, loadConfigFile } from '../../../src/config/load.ts';
import { themeCss } from '../../../src/libraries/assets.ts';
import { allDigits } from '../../../src/libraries/library.ts';
import { createViews } from '../../../src/views.ts';

const dir = mkdtempSync(join(tmpdir(), 'patronym-library-pages-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function load(library: string) {
  const file = join(dir, `c-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    file,
    `issuer: https://login.example.org
libraries:
  - id: lib
    name: Lib
    authenticators: [{ kind: file, path: p.yaml }]
${library}
clients: [{ client_id: v, client_secret: s, redirect_uris: [https://v.example/cb] }]
`,
  );
  return loadConfigFile(file, { kinds: authenticatorKinds, env: {}, files: false });
}

function problems(library: string): readonly string[] {
  try {
    load(library);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('library keys of the patron pages', () => {
  it('checks the dark colours for AA contrast against the dark page and their text', () => {
    const list = problems(`    colours: { accent: "#1d4f91", dark: { accent: "#1d4f91", accentText: "#8ab4f8" } }`);
    expect(
      list.some((p) =>
        /^libraries\[0\]\.colours\.dark\.accent: contrast with the dark page \(#1e1e1e\) is 2\.05:1, WCAG AA needs 4\.5:1; found "#1d4f91"/.test(
          p,
        ),
      ),
      list.join('\n'),
    ).toBe(true);
    expect(list.some((p) => p.startsWith('libraries[0].colours.dark.accentText: contrast with accent is'))).toBe(true);
    expect(() => load(`    colours: { accent: "#1d4f91", dark: { accent: "#8ab4f8" } }`)).not.toThrow();
  });

  it('refuses a language the pages do not speak and a keyboard it does not know', () => {
    const list = problems(`    language: de\n    cardInput: qwerty`);
    expect(list.some((p) => p.startsWith('libraries[0].language'))).toBe(true);
    expect(list.some((p) => p.startsWith('libraries[0].cardInput'))).toBe(true);
  });

  it('gives a dark theme only to a library with a dark variant; without one its pages stay light', () => {
    const light = themeCss({ accent: '#1d4f91', accentText: '#ffffff' });
    expect(light).toMatch(
      /@media \(prefers-color-scheme: dark\) \{ :root \{ [^}]*color-scheme: light;[^}]*--accent: #1d4f91/,
    );
    const dark = themeCss({
      accent: '#1d4f91',
      accentText: '#ffffff',
      dark: { accent: '#8ab4f8', accentText: '#111111' },
    });
    expect(dark).toMatch(
      /@media \(prefers-color-scheme: dark\) \{ :root \{ [^}]*color-scheme: dark;[^}]*--accent: #8ab4f8; --accent-fg: #111111;/,
    );
  });

  it('offers a number pad for the card only where every pattern is digits', () => {
    const cases: [string[], boolean][] = [
      [['21234'], true],
      [['21234', '/^2999[0-9]{10}$/', '/^88\\d{6,8}$/'], true],
      [[], false],
      [['B12'], false],
      [['/^[A-Z]{2}\\d{6}$/'], false],
      [['/^21.*$/'], false],
    ];
    for (const [patterns, numeric] of cases) expect(allDigits(patterns), patterns.join(' ')).toBe(numeric);
  });

  it("refuses a library's wording for a message that does not exist or is not ICU", () => {
    const libraries = [
      { id: 'a', name: 'A', messages: { en: { 'login.card': 'Borrower number', 'login.crad': 'typo' } } },
      { id: 'b', name: 'B', messages: { fr: { 'login.card': 'Numéro {' } } },
    ];
    expect(() => createViews({ libraries })).toThrow(
      /libraries\[0\]\.messages\.en\.login\.crad: expected a message key/,
    );
    expect(() => createViews({ libraries })).toThrow(
      /libraries\[1\]\.messages\.fr\.login\.card: expected an ICU message/,
    );
  });
});
