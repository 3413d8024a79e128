// Bench tooling only (never imported by src/): `node --import
// ./bench/mem-probe.ts src/main.ts` with PATRONYM_MEM_PROBE=<dir> makes the
// broker write, every PATRONYM_MEM_PROBE_SECONDS (default 60), one JSON line
// to <dir>/memory.jsonl splitting its resident memory: V8's heap (used,
// committed, per space), external and ArrayBuffer memory, and from
// /proc/self/smaps_rollup the anonymous (heap, malloc: SQLite's page cache,
// native addons) and file-backed (code, mapped files) parts. SIGUSR2 writes a
// V8 heap snapshot to <dir> (bench/heap-summary.ts compares two) and a line.
// PATRONYM_MEM_PROBE_V8_FLAGS tries V8 flags that Node refuses in
// NODE_OPTIONS but V8 reads at every collection (e.g.
// --heap-growing-percent=50), set at start through v8.setFlagsFromString.
// A process without PATRONYM_MEM_PROBE (the load generator, which inherits
// NODE_OPTIONS) is left alone.
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getHeapSpaceStatistics, setFlagsFromString, writeHeapSnapshot } from 'node:v8';

const dir = process.env.PATRONYM_MEM_PROBE;
const MiB = 2 ** 20;
const round = (bytes: number): number => Math.round((bytes / MiB) * 10) / 10;

function smaps(): Record<string, number> {
  try {
    const text = readFileSync('/proc/self/smaps_rollup', 'utf8');
    const kB = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) / 1024;
    return { rss: kB('Rss'), anonymous: kB('Anonymous'), file: kB('Rss') - kB('Anonymous') };
  } catch {
    return {};
  }
}

function sample(event: string, extra: Record<string, unknown> = {}): void {
  if (!dir) return;
  const m = process.memoryUsage();
  const spaces = Object.fromEntries(
    getHeapSpaceStatistics().map((s) => [s.space_name, [round(s.space_used_size), round(s.space_size)]]),
  );
  const line = {
    event,
    at: new Date().toISOString(),
    uptime: Math.round(process.uptime()),
    rss: round(m.rss),
    heapUsed: round(m.heapUsed),
    heapTotal: round(m.heapTotal),
    external: round(m.external),
    arrayBuffers: round(m.arrayBuffers),
    smaps: Object.fromEntries(Object.entries(smaps()).map(([k, v]) => [k, Math.round(v * 10) / 10])),
    spaces, // [used, committed] MiB
    ...extra,
  };
  appendFileSync(join(dir, 'memory.jsonl'), `${JSON.stringify(line)}\n`);
}

if (dir && /main\.ts$/.test(process.argv[1] ?? '')) {
  const seconds = Number(process.env.PATRONYM_MEM_PROBE_SECONDS ?? 60);
  if (process.env.PATRONYM_MEM_PROBE_V8_FLAGS) setFlagsFromString(process.env.PATRONYM_MEM_PROBE_V8_FLAGS);
  sample('start');
  setInterval(() => sample('tick'), seconds * 1000).unref();
  let n = 0;
  process.on('SIGUSR2', () => {
    sample('before-snapshot');
    const file = writeHeapSnapshot(join(dir, `heap-${++n}-${Math.round(process.uptime())}s.heapsnapshot`));
    sample('snapshot', { file });
  });
}
