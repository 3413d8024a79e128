// Issue 16: the interaction routes had grown into one 343-line closure with a
// 14-field dependency bag. These keep the shape that replaced it: the route
// map only maps, each step is a module of its own (src/oidc/interaction/),
// and the steps never reach back up to the routes.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importGraph } from '../architecture/import-graph.ts';

const OIDC = resolve(import.meta.dirname, '../../../src/oidc');
const lines = (path: string): number => readFileSync(path, 'utf8').split('\n').length;
const STEPS = join(OIDC, 'interaction');
const steps = existsSync(STEPS) ? readdirSync(STEPS).filter((f) => f.endsWith('.ts')) : [];
const graph = importGraph();

describe('the interaction routes', () => {
  it('are a route map: interactions.ts declares one function and stays short', () => {
    const text = readFileSync(join(OIDC, 'interactions.ts'), 'utf8');
    expect(text.match(/^\s*(?:export\s+)?(?:async\s+)?function\b/gm)).toHaveLength(1);
    expect(lines(join(OIDC, 'interactions.ts'))).toBeLessThan(80);
  });

  it('keep each step in a module of tens of lines, not hundreds', () => {
    // Guards the guard: the steps are where the test looks.
    expect(steps).toEqual(expect.arrayContaining(['library-step.ts', 'sign-in-step.ts', 'consent-step.ts']));
    const long = steps.filter((f) => lines(join(OIDC, 'interaction', f)) > 200);
    expect(long).toEqual([]);
  });

  it('are reached only from app.ts, and no step imports them', () => {
    const importers = [...graph].filter(([, targets]) => targets.includes('oidc/interactions.ts')).map(([f]) => f);
    expect(importers).toEqual(['app.ts']);
  });
});
