// A second (and third) writer on one SQLite file, in its own thread: its own
// handle, event loop and group commits, running truly at the same time as
// the others (test/unit/store/sqlite-group-commit.test.ts). Waits at the barrier, then makes
// `n` concurrent consumes of one code and `n` increments of one counter.
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteStore } from '../../src/store/sqlite.ts';

const { path, n, barrier } = workerData as { path: string; n: number; barrier: SharedArrayBuffer };
const store = new SqliteStore(path);
const gate = new Int32Array(barrier);
Atomics.add(gate, 0, 1);
Atomics.notify(gate, 0);
while (Atomics.load(gate, 1) === 0) Atomics.wait(gate, 1, 0, 50);
const [consumed, counts] = await Promise.all([
  Promise.all(Array.from({ length: n }, () => store.consume('AuthorizationCode', 'shared'))),
  Promise.all(Array.from({ length: n }, () => store.increment('Throttle', 'shared', 600))),
]);
await store.close();
parentPort?.postMessage({ won: consumed.filter(Boolean).length, counts });
