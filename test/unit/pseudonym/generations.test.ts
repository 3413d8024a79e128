// Durable pseudonym generations: a pseudonym a patron abandoned never comes
// back, whatever order resets and "forget me" come in, concurrently, after a
// reopen of the store, and without the record saying whose it is.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Accounts } from '../../../src/oidc/account.ts';
import { GENERATION_MODEL, Generations } from '../../../src/pseudonym/generations.ts';
import { MemoryStore } from '../../../src/store/memory.ts';
import { PostgresStore } from '../../../src/store/postgres.ts';
import { SqliteStore } from '../../../src/store/sqlite.ts';
import type { Store } from '../../../src/store/store.ts';
import { type Postgres, postgresAvailable, startPostgres } from '../../support/postgres.ts';

const KEY = Buffer.alloc(32, 7);
const ACCOUNT = 'Q2hhbmdlIG1lOiB0aGlzIGlzIGFuIGFjY291bnRJZA';
const dir = mkdtempSync(join(tmpdir(), 'patronym-generations-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

// Each kind opens a fresh store and, for the concurrency case, a second
// connection to the same data (a second broker instance).
interface Kind {
  open(now?: () => number): Promise<{ store: Store; second: () => Store }>;
}
const withClock = (now?: () => number) => (now ? { now } : {});
const pgAvailable = postgresAvailable();
let pg: Postgres | undefined;
beforeAll(async () => {
  if (pgAvailable) pg = await startPostgres();
}, 120_000);
afterAll(async () => pg?.dispose());

const kinds: [string, Kind][] = [
  [
    'memory',
    {
      async open(now) {
        const store = new MemoryStore(withClock(now));
        return { store, second: () => store };
      },
    },
  ],
  [
    'sqlite',
    {
      async open(now) {
        const path = join(dir, `g-${n++}.sqlite`);
        return { store: new SqliteStore(path, withClock(now)), second: () => new SqliteStore(path) };
      },
    },
  ],
];
if (pgAvailable) {
  kinds.push([
    'postgres',
    {
      async open(now) {
        const url = await (pg as Postgres).createDatabase();
        return { store: new PostgresStore({ url, ...withClock(now) }), second: () => new PostgresStore({ url }) };
      },
    },
  ]);
}

describe.each(kinds)('pseudonym generations on the %s store', (_kind, { open }) => {
  it('starts at 0, raises only the sector reset, and never returns an earlier generation after forget me', async () => {
    const { store } = await open();
    const g = new Generations(store, KEY);
    expect((await g.snapshot(ACCOUNT)).of('vendor.example')).toBe(0);
    expect(await g.reset(ACCOUNT, 'vendor.example')).toBe(1);
    expect(await g.reset(ACCOUNT, 'VENDOR.example')).toBe(2);
    let now = await g.snapshot(ACCOUNT);
    expect([now.of('vendor.example'), now.of('other.example')]).toEqual([2, 0]);
    await g.forget(ACCOUNT);
    now = await g.snapshot(ACCOUNT);
    // above every generation either sector ever had
    expect([now.of('vendor.example'), now.of('other.example')]).toEqual([3, 3]);
    expect(await g.reset(ACCOUNT, 'other.example')).toBe(4);
    // another patron is untouched
    expect((await g.snapshot('another')).of('vendor.example')).toBe(0);
    await store.close();
  });

  it('loses no reset under 100 concurrent ones from two instances', async () => {
    const { store, second } = await open();
    const other = second();
    const g = [new Generations(store, KEY), new Generations(other, KEY)] as const;
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        i === 50 ? g[0].forget(ACCOUNT) : (i % 2 ? g[1] : g[0]).reset(ACCOUNT, 'vendor.example'),
      ),
    );
    const resets = results.filter((r): r is number => typeof r === 'number');
    // every reset got its own generation
    expect(new Set(resets).size).toBe(99);
    expect((await g[1].snapshot(ACCOUNT)).of('vendor.example')).toBeGreaterThanOrEqual(100);
    if (other !== store) await other.close();
    await store.close();
  });

  it('is durable, outside the account index, and names no accountId or sector', async () => {
    let clock = Date.now();
    const { store } = await open(() => clock);
    const accounts = new Accounts(store, 60, KEY);
    await accounts.touch(ACCOUNT, 'springfield', 'springfield');
    await accounts.resetPseudonym(ACCOUNT, 'vendor.example');
    expect(await store.findByAccount(ACCOUNT)).toEqual([
      {
        model: 'Account',
        id: ACCOUNT,
        // `day`: the day it was last rewritten (at most once a day, see touch).
        payload: { accountId: ACCOUNT, realm: 'springfield', library: 'springfield', day: expect.any(Number) },
      },
    ]);
    const [record] = await store.list(GENERATION_MODEL);
    expect(JSON.stringify(record)).not.toContain(ACCOUNT);
    expect(JSON.stringify(record)).not.toContain('vendor');
    // ten years on, the Account record has expired; the generation has not
    clock += 10 * 365 * 24 * 3600 * 1000;
    expect(await store.sweep()).toEqual({ Account: 1 });
    expect(await store.list(GENERATION_MODEL)).toHaveLength(1);
    expect((await accounts.generations.snapshot(ACCOUNT)).of('vendor.example')).toBe(1);
    await store.close();
  });
});

describe('generations kept by an older version in the Account record', () => {
  it('are taken over on first read and dropped from the Account record at the next sign-in', async () => {
    const store = new MemoryStore();
    await store.upsert(
      'Account',
      ACCOUNT,
      { accountId: ACCOUNT, realm: 'springfield', library: 'springfield', generations: { 'vendor.example': 2 } },
      60,
    );
    const accounts = new Accounts(store, 60, KEY);
    expect((await (await accounts.load(ACCOUNT))?.generations())?.of('vendor.example')).toBe(2);
    await accounts.touch(ACCOUNT, 'springfield', 'springfield');
    expect(await store.find('Account', ACCOUNT)).not.toHaveProperty('generations');
    expect((await (await accounts.load(ACCOUNT))?.generations())?.of('vendor.example')).toBe(2);
    expect(await accounts.generations.reset(ACCOUNT, 'vendor.example')).toBe(3);
  });
});

describe('any order of resets and forget me', () => {
  it('never hands a sector a generation it had before', async () => {
    const sectors = ['a.example', 'b.example', 'c.example'];
    const op = fc.oneof(
      fc.record({ kind: fc.constant('reset' as const), sector: fc.constantFrom(...sectors) }),
      fc.constant({ kind: 'forget' as const }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 30 }), fc.boolean(), async (ops, concurrent) => {
        const g = new Generations(new MemoryStore(), KEY);
        const seen = new Map(sectors.map((s) => [s, new Set([0])]));
        const step = async (o: (typeof ops)[number]) =>
          o.kind === 'reset' ? g.reset(ACCOUNT, o.sector) : g.forget(ACCOUNT);
        if (concurrent) await Promise.all(ops.map(step));
        for (const o of concurrent ? [] : ops) {
          const before = await g.snapshot(ACCOUNT);
          await step(o);
          const after = await g.snapshot(ACCOUNT);
          for (const s of sectors) {
            const changed = o.kind === 'forget' || o.sector === s;
            if (!changed) expect(after.of(s)).toBe(before.of(s));
            else {
              // a new generation, never one used before
              expect(seen.get(s)?.has(after.of(s))).toBe(false);
              seen.get(s)?.add(after.of(s));
            }
          }
        }
        const end = await g.snapshot(ACCOUNT);
        // each operation raised what it touched by at least one, in any
        // interleaving (an update lost to a race would show here)
        for (const s of sectors) {
          const mine = ops.filter((o) => o.kind === 'forget' || o.sector === s).length;
          expect(end.of(s)).toBeGreaterThanOrEqual(mine);
        }
      }),
      { numRuns: 200 },
    );
  });
});
