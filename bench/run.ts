// `npm run bench [scenario…]`: complete OIDC sign-ins per second at
// concurrency 1, 8 and 32 for each backend scenario, with latency
// percentiles. Every request goes to loopback; every run is bounded.
import { cpus } from 'node:os';
import { removeDir, startBroker, vendor } from '../test/support/broker.ts';
import { formatRow, HEADER, loginLoad } from './login-load.ts';
import { type Scenario, scenarios } from './scenarios.ts';

const CONCURRENCY = [1, 8, 32];
const LIMITS = { count: Number(process.env.BENCH_COUNT ?? 400), seconds: Number(process.env.BENCH_SECONDS ?? 15) };

const wanted = process.argv.slice(2);
const selected: [string, Scenario][] = Object.entries(scenarios).filter(
  ([name]) => wanted.length === 0 || wanted.includes(name),
);
if (selected.length === 0) {
  process.stderr.write(`bench: no such scenario; choose from ${Object.keys(scenarios).join(', ')}\n`);
  process.exit(2);
}

process.stdout.write(
  `Patronym sign-in benchmark: node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ` +
    `at most ${LIMITS.count} sign-ins or ${LIMITS.seconds} s per row\n\n${HEADER}\n`,
);
for (const [name, scenario] of selected) {
  const setup = await scenario();
  const b = await startBroker({ config: { ...setup.config, log: { level: 'warn' } } });
  try {
    const v = await vendor(b.issuer, 'demo-vendor', 'demo-vendor-secret');
    // Warm-up: JIT, connection pools, SQLite pages.
    await loginLoad(b, v, setup.cards, 4, { count: 20, seconds: 5 });
    for (const concurrency of CONCURRENCY) {
      process.stdout.write(`${formatRow(name, await loginLoad(b, v, setup.cards, concurrency, LIMITS))}\n`);
    }
  } finally {
    await b.stop();
    removeDir(b.dir);
    await setup.teardown?.();
  }
}
