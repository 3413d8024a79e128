import { describe, expect, it } from 'vitest';
import { importGraph, importLoops } from './import-graph.ts';

// ARCHITECTURE.md: cli, main → app → oidc, pages → (auth, libraries,
// pseudonym, policy, store, security) → (config, errors). Nothing below
// imports from above, and no two files import each other, however
// indirectly: a loop is where a newcomer cannot tell which module owns what.
const graph = importGraph();
const LOWER = ['auth/', 'store/', 'policy/', 'pseudonym/', 'security/', 'libraries/'];
const isUpper = (file: string): boolean =>
  file.startsWith('oidc/') ||
  file.startsWith('pages/') ||
  file.startsWith('cli/') ||
  ['app.ts', 'main.ts', 'server.ts', 'cluster.ts'].includes(file);

const edges = (from: (file: string) => boolean, to: (file: string) => boolean): string[] =>
  [...graph].flatMap(([file, targets]) => (from(file) ? targets.filter(to).map((t) => `${file} → ${t}`) : []));

describe('the import graph of src/', () => {
  it('is read (the script finds the files and their imports)', () => {
    // Guards the guard: an empty graph would pass every test below.
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get('oidc/provider.ts')).toContain('oidc/account.ts');
    expect(
      importLoops(
        new Map([
          ['a.ts', ['b.ts']],
          ['b.ts', ['a.ts']],
          ['c.ts', ['a.ts']],
        ]),
      ),
    ).toEqual([['a.ts', 'b.ts']]);
  });

  it('has no import loops', () => {
    expect(importLoops(graph)).toEqual([]);
  });

  it('points one way: auth, store, policy, pseudonym, security and libraries import nothing above them', () => {
    expect(edges((f) => LOWER.some((p) => f.startsWith(p)), isUpper)).toEqual([]);
  });

  it('keeps the protocol below the pages: oidc/ never imports pages/', () => {
    expect(
      edges(
        (f) => f.startsWith('oidc/'),
        (t) => t.startsWith('pages/'),
      ),
    ).toEqual([]);
  });

  it('keeps security/ beside pseudonym/, not on it: what both need (lengthPrefixed) lives in crypto/', () => {
    expect(
      edges(
        (f) => f.startsWith('security/'),
        (t) => t.startsWith('pseudonym/'),
      ),
    ).toEqual([]);
  });

  it('keeps config and errors at the bottom (with locale.ts, the list of languages, and crypto/, encodings that import nothing)', () => {
    const bottom = (f: string): boolean =>
      f.startsWith('config/') || f.startsWith('crypto/') || f === 'errors.ts' || f === 'locale.ts';
    expect(edges(bottom, (t) => !bottom(t))).toEqual([]);
  });
});
