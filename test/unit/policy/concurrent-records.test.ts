// A patron's consent and release-log records under concurrency: two
// sign-ins of one patron (on one broker or on two sharing a database) must
// not lose each other's entry. Runs on every persistent store kind, with
// the release log and consents of two "instances" (two store handles)
// writing at once where the store allows it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Consents } from '../../../src/policy/consent.ts';
import { ReleaseLog } from '../../../src/policy/release-log.ts';
import { MemoryStore } from '../../../src/store/memory.ts';
import { PostgresStore } from '../../../src/store/postgres.ts';
import { SqliteStore } from '../../../src/store/sqlite.ts';
import type { Store } from '../../../src/store/store.ts';
import { type Postgres, postgresAvailable, startPostgres } from '../../support/postgres.ts';

const N = 50;
const vendors = Array.from({ length: N }, (_, i) => `vendor-${i}`);

// Two handles over one set of data: what two broker processes would hold.
interface Pair {
  a: Store;
  b: Store;
  close(): Promise<void>;
}

const dir = mkdtempSync(join(tmpdir(), 'patronym-policy-'));
const pgAvailable = postgresAvailable();
let server: Postgres | undefined;
beforeAll(async () => {
  if (pgAvailable) server = await startPostgres();
}, 60_000);
afterAll(async () => {
  await server?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
const kinds: Array<[string, boolean, (now?: () => number) => Promise<Pair>]> = [
  [
    'memory',
    true,
    async (now = Date.now) => {
      const store = new MemoryStore({ now });
      return { a: store, b: store, close: () => store.close() };
    },
  ],
  [
    'sqlite',
    true,
    async (now = Date.now) => {
      const path = join(dir, `p-${n++}.sqlite`);
      const a = new SqliteStore(path, { now });
      const b = new SqliteStore(path, { now });
      return { a, b, close: async () => void (await Promise.all([a.close(), b.close()])) };
    },
  ],
  [
    'postgres',
    pgAvailable,
    async (now = Date.now) => {
      const url = await (server as Postgres).createDatabase();
      const a = new PostgresStore({ url, now });
      const b = new PostgresStore({ url, now });
      return { a, b, close: async () => void (await Promise.all([a.close(), b.close()])) };
    },
  ],
];

for (const [kind, available, open] of kinds) {
  describe.runIf(available)(`policy records on ${kind}`, () => {
    it(`${N} parallel release-log records for one patron, from two instances, lose none`, async () => {
      const pair = await open();
      try {
        const logs = [new ReleaseLog(pair.a), new ReleaseLog(pair.b)];
        await Promise.all(vendors.map((v, i) => logs[i % 2]?.record('acct', v, i % 3 ? [] : ['library'], 180)));
        const used = await logs[0]?.list('acct', 180);
        expect(Object.keys(used ?? {}).sort()).toEqual([...vendors].sort());
        expect(used?.['vendor-0']?.received).toEqual(['library']);
      } finally {
        await pair.close();
      }
    });

    it(`${N} parallel consents for one patron, from two instances, lose none; a withdrawal in between stays withdrawn`, async () => {
      const pair = await open();
      try {
        const consents = [new Consents(pair.a), new Consents(pair.b)];
        await consents[0]?.allow('acct', 'gone', ['library'], 365);
        await Promise.all([
          ...vendors.map((v, i) => consents[i % 2]?.allow('acct', v, ['affiliation'], 365)),
          consents[1]?.withdraw('acct', 'gone'),
        ]);
        const allowed = await consents[1]?.list('acct');
        expect(Object.keys(allowed ?? {}).sort()).toEqual([...vendors].sort());
        expect(await consents[0]?.allowed('acct', 'vendor-7')).toEqual(['affiliation']);
      } finally {
        await pair.close();
      }
    });

    it('a shorter consent written at the same time never shortens a longer one; the record ends with the last', async () => {
      let t = Date.UTC(2026, 0, 1);
      const now = () => t;
      const pair = await open(now);
      try {
        const consents = [new Consents(pair.a, now), new Consents(pair.b, now)];
        await Promise.all(vendors.map((v, i) => consents[i % 2]?.allow('acct', v, ['library'], i % 2 ? 30 : 365)));
        t += 31 * 86_400_000;
        const left = Object.keys((await consents[0]?.list('acct')) ?? {});
        expect(left.sort()).toEqual(vendors.filter((_, i) => i % 2 === 0).sort());
        t += 334 * 86_400_000 + 120_000;
        expect(await consents[1]?.list('acct')).toEqual({});
        expect(await pair.a.find('Consent', 'acct')).toBeUndefined();
      } finally {
        await pair.close();
      }
    });

    it('parallel withdrawals and forgetting leave nothing of the vendors withdrawn', async () => {
      const pair = await open();
      try {
        const consents = [new Consents(pair.a), new Consents(pair.b)];
        const logs = [new ReleaseLog(pair.a), new ReleaseLog(pair.b)];
        for (const v of vendors.slice(0, 10)) {
          await consents[0]?.allow('acct', v, ['library'], 365);
          await logs[0]?.record('acct', v, ['library'], 180);
        }
        await Promise.all(
          vendors
            .slice(0, 10)
            .flatMap((v, i) => [consents[i % 2]?.withdraw('acct', v), logs[i % 2]?.forgetVendor('acct', v, 180)]),
        );
        expect(await consents[0]?.list('acct')).toEqual({});
        expect(await logs[1]?.list('acct')).toEqual({});
      } finally {
        await pair.close();
      }
    });
  });
}
