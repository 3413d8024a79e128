// The bench's ablations (bench/ablate.ts): the switches live in a patch,
// never in src/, so this keeps the patch applicable to the code as it is
// and in step with the names the bench accepts.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ABLATIONS, ablations, switchOff } from '../../../bench/ablate.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const PATCH = join(ROOT, 'bench', 'ablate.patch');

describe('bench: ablations', () => {
  const saved = process.env.BENCH_ABLATE;
  afterEach(() => {
    if (saved === undefined) delete process.env.BENCH_ABLATE;
    else process.env.BENCH_ABLATE = saved;
  });

  it('bench/ablate.patch applies to src/ as it is', () => {
    const check = spawnSync('git', ['apply', '--check', PATCH], { cwd: ROOT, encoding: 'utf8' });
    expect(check.error).toBeUndefined();
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
  });

  it('the patch touches src/ only and has a switch for every name the bench accepts', () => {
    const patch = readFileSync(PATCH, 'utf8');
    const files = [...patch.matchAll(/^\+\+\+ b\/(\S+)/gm)].map((m) => m[1]);
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) expect(file).toMatch(/^src\//);
    expect(files).toContain('src/bench-ablate.ts');
    const switched = new Set([...patch.matchAll(/^\+.*ablated\('([a-z]+)'\)/gm)].map((m) => m[1]));
    const named = Object.keys(ABLATIONS).filter((name) => name !== 'all');
    expect([...switched].sort()).toEqual(named.sort());
  });

  it('takes known names and refuses others, naming the choices', () => {
    process.env.BENCH_ABLATE = ' throttle, headers ,';
    expect(ablations()).toEqual(['throttle', 'headers']);
    process.env.BENCH_ABLATE = 'throttle,throtle';
    expect(() => ablations()).toThrow(/expected names from throttle, .*; found throtle$/);
    delete process.env.BENCH_ABLATE;
    expect(ablations()).toEqual([]);
  });

  it('refuses to run a row while the patch is not applied', () => {
    // src/bench-ablate.ts exists only with the patch applied (never committed).
    expect(() => switchOff('throttle')).toThrow(/git apply bench\/ablate\.patch/);
  });
});
