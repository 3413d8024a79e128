// `npm run bench config`: how long the start-up (and SIGHUP reload) checks
// take for a state-wide consortium: 50 systems of 20 branches, each system
// with its own card prefix written as an anchored expression, a shared
// authenticator per system, and a realm per system. Prints the median of a
// few runs for 20, 200 and 1,000 libraries, and the same overlap check done
// the old way (every pair of libraries) for comparison.
import { performance } from 'node:perf_hooks';
import { authenticatorKinds } from '../src/auth/registry.ts';
import { parseConfig } from '../src/config/load.ts';
import { overlapProblems, type PatternOwner } from '../src/config/overlaps.ts';
import { patternsOverlap } from '../src/config/patterns.ts';

function consortium(libraries: number): Record<string, unknown> {
  const systems = Math.max(1, Math.round(libraries / 20));
  const branches = Math.ceil(libraries / systems);
  const authenticators = [];
  const list = [];
  const realms = [];
  for (let s = 0; s < systems; s++) {
    realms.push({ id: `system${s}`, scope: `system${s}.example.org` });
    authenticators.push({ id: `ils${s}`, kind: 'file', path: `/nonexistent/system${s}.yaml` });
    for (let b = 0; b < branches && list.length < libraries; b++) {
      list.push({
        id: `system${s}-branch${b}`,
        name: `Branch ${b} of System ${s}`,
        town: `Town ${s}-${b}`,
        realm: `system${s}`,
        cardPatterns: [`/^${21000 + s}[0-9]{9}$/`],
        authenticators: [`ils${s}`],
      });
    }
  }
  return {
    issuer: 'https://broker.example.org',
    keys: { dir: '/nonexistent/keys', pinPepper: 'aa'.repeat(32) },
    realms,
    authenticators,
    libraries: list,
  };
}

function median(run: () => void, times = 5): number {
  const ms: number[] = [];
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    run();
    ms.push(performance.now() - started);
  }
  return ms.sort((a, b) => a - b)[Math.floor(times / 2)] as number;
}

function pairwise(libraries: readonly PatternOwner[]): number {
  let found = 0;
  libraries.forEach((a, i) => {
    for (const b of libraries.slice(i + 1)) {
      if (a.realm === b.realm) continue;
      for (const pa of a.cardPatterns) for (const pb of b.cardPatterns) if (patternsOverlap(pa, pb)) found++;
    }
  });
  return found;
}

export function benchConfig(): void {
  process.stdout.write(
    '\n| libraries | parse + check config (ms) | overlap check (ms) | every pair, as before (ms) |\n|---|---|---|---|\n',
  );
  for (const size of [20, 200, 1000]) {
    const raw = consortium(size);
    const parse = median(() => {
      try {
        parseConfig(raw, 'bench', { kinds: authenticatorKinds, env: {} });
      } catch {
        // The patron files do not exist; the checks have all run by then.
      }
    });
    const owners = (raw.libraries as PatternOwner[]).map((l) => ({ ...l }));
    const overlaps = median(() => overlapProblems(owners));
    const before = median(() => pairwise(owners), size >= 1000 ? 1 : 3);
    process.stdout.write(`| ${size} | ${parse.toFixed(1)} | ${overlaps.toFixed(1)} | ${before.toFixed(0)} |\n`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) benchConfig();
