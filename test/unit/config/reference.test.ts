import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { authenticatorKinds } from '../../../src/auth/registry.ts';
import { configurationReference } from '../../../src/config/reference.ts';

const reference = configurationReference(authenticatorKinds);

// Each table: its heading and its rows as cells (`\|` inside a cell kept).
function tables(text: string): Map<string, string[][]> {
  const out = new Map<string, string[][]>();
  let heading = '(main)';
  for (const line of text.split('\n')) {
    if (line.startsWith('## ')) heading = line.slice(3);
    if (!line.startsWith('| `')) continue;
    const cells = line
      .slice(1, -1)
      .split(/(?<!\\)\|/)
      .map((c) => c.trim());
    out.set(heading, [...(out.get(heading) ?? []), cells]);
  }
  return out;
}

describe('docs/configuration.md', () => {
  it('is generated from the schema and up to date (npm run docs:config)', () => {
    expect(reference).toContain('## Authenticator kind `file`');
    expect(reference).toContain('## Authenticator kind `ldap`');
    expect(reference).toContain('| `ttl.account` | integer, seconds |  | `15552000` |');
    expect(reference).toContain('| `clients[].client_secret` | secret |');
    expect(readFileSync('docs/configuration.md', 'utf8')).toBe(reference);
  });

  it('gives every row five cells and a meaning, and each key once per table', () => {
    for (const [heading, rows] of tables(reference)) {
      for (const cells of rows) {
        expect(cells, `${heading}: ${cells.join(' | ')}`).toHaveLength(5);
        expect(cells[4], `${heading}: ${cells[0]} has no meaning`).not.toBe('');
      }
      const keys = rows.map((c) => c[0]);
      expect(
        keys.filter((k, i) => keys.indexOf(k) !== i),
        heading,
      ).toEqual([]);
    }
  });

  it('names units, marks required keys and reads well for kind-specific keys', () => {
    const main = tables(reference).get('(main)') ?? [];
    const byKey = new Map(main.map((c) => [c[0], c]));
    for (const key of ['session', 'sessionIdle', 'interaction', 'authorizationCode', 'refreshToken'])
      expect(byKey.get(`\`ttl.${key}\``)?.[1], key).toMatch(/, seconds$/);
    expect(byKey.get('`throttle.card.window`')?.[1]).toBe('integer, seconds');
    expect(byKey.get('`libraries`')?.[2]).toBe('yes');
    expect(byKey.get('`libraries[].name`')?.[2]).toBe('yes');
    expect(byKey.get('`issuer`')?.[2]).toBe('');
    expect(byKey.get('`store.kind`')?.[1]).toBe('`memory` \\| `sqlite` \\| `postgres`');
    expect(byKey.get('`store.url`')?.[4]).toMatch(/^\(kind `postgres`\) /);
    expect(reference).not.toMatch(/later issues|\(later\)/);
    const sip2 = new Map((tables(reference).get('Authenticator kind `sip2`') ?? []).map((c) => [c[0], c]));
    expect(sip2.get('`message`')?.[1]).toBe('`63` or `23`');
  });
});
