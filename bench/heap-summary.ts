// Bench tooling: `node bench/heap-summary.ts a.heapsnapshot [b.heapsnapshot]`
// prints a V8 heap snapshot's objects grouped by constructor (DevTools'
// "Summary" view: count and shallow size), or, given two, the groups that
// grew most from the first to the second (DevTools' "Comparison"). A leak
// shows as a group whose count keeps rising between snapshots taken under
// the same load; a lazy collector shows as the totals rising while no
// group's count does.
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

type Groups = Map<string, { count: number; size: number }>;

// Objects by constructor name; strings, code, arrays' backing stores and
// V8's internals by their node type (their names are contents, not kinds).
export function summarize(file: string): Groups {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const [type, name, size] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [number, number, number];
  const groups: Groups = new Map();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const kind = types[snap.nodes[i + type] as number] as string;
    const named = kind === 'object' || kind === 'closure' || kind === 'native' || kind === 'array';
    const key = named
      ? `${kind === 'object' ? '' : `(${kind}) `}${snap.strings[snap.nodes[i + name] as number]}`
      : `(${kind})`;
    const group = groups.get(key) ?? { count: 0, size: 0 };
    group.count++;
    group.size += snap.nodes[i + size] as number;
    groups.set(key, group);
  }
  return groups;
}

const MiB = (bytes: number): string => (bytes / 2 ** 20).toFixed(2);
const total = (g: Groups): number => [...g.values()].reduce((s, v) => s + v.size, 0);

function print(rows: [string, number, number][], header: string): void {
  process.stdout.write(`${header}\n`);
  for (const [key, count, size] of rows) {
    process.stdout.write(`${String(count).padStart(10)} ${MiB(size).padStart(9)}  ${key.slice(0, 90)}\n`);
  }
}

const [first, second] = process.argv.slice(2);
if (!first) {
  process.stderr.write('usage: node bench/heap-summary.ts a.heapsnapshot [b.heapsnapshot]\n');
  process.exit(64);
}
const a = summarize(first);
if (!second) {
  const rows = [...a].map(([k, v]): [string, number, number] => [k, v.count, v.size]).sort((x, y) => y[2] - x[2]);
  print(rows.slice(0, 30), `${first}: ${MiB(total(a))} MiB in objects\n     count  size MiB  constructor`);
} else {
  const b = summarize(second);
  const keys = new Set([...a.keys(), ...b.keys()]);
  const rows = [...keys]
    .map((k): [string, number, number] => [
      k,
      (b.get(k)?.count ?? 0) - (a.get(k)?.count ?? 0),
      (b.get(k)?.size ?? 0) - (a.get(k)?.size ?? 0),
    ])
    .sort((x, y) => Math.abs(y[2]) - Math.abs(x[2]));
  print(
    rows.slice(0, 30),
    `${first} → ${second}: ${MiB(total(a))} → ${MiB(total(b))} MiB in objects\n    Δcount     ΔMiB  constructor`,
  );
}
