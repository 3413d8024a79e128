// The postgres store against a real PostgreSQL started for this file: the
// shared conformance suite (a fresh database per test), then what only this
// store has: migrations, refusing a newer schema, two instances starting at
// once, batched sweeps.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../../src/store/postgres.ts';
import { storeSuite } from '../../conformance/store.suite.ts';
import { type Postgres, postgresAvailable, startPostgres } from '../../support/postgres.ts';

const available = postgresAvailable();
let server: Postgres;
beforeAll(async () => {
  if (available) server = await startPostgres();
}, 60_000);
afterAll(async () => {
  await server?.dispose();
});

let current = '';
describe.runIf(available)('postgres', () => {
  storeSuite('postgres', {
    open: async (clock) => {
      current = await server.createDatabase();
      return new PostgresStore({ url: current, now: clock.now });
    },
    reopen: async (clock) => new PostgresStore({ url: current, now: clock.now }),
  });
});

describe.runIf(available)('postgres schema and sweeps', () => {
  it('creates the schema once when ten instances open one empty database at once', async () => {
    const url = await server.createDatabase();
    const stores = Array.from({ length: 10 }, () => new PostgresStore({ url }));
    await Promise.all(stores.map((s) => s.ready()));
    await Promise.all(stores.map((s, i) => s.upsert('Account', `a${i}`, { i })));
    expect(await stores[0]?.list('Account')).toHaveLength(10);
    const versions = await server.query(new URL(url).pathname.slice(1), 'SELECT version FROM patronym_schema');
    expect(versions.map((r) => r.version)).toEqual([1, 2]);
    await Promise.all(stores.map((s) => s.close()));
  });

  it('refuses a database migrated by a newer broker, and keeps its records', async () => {
    const url = await server.createDatabase();
    const db = new URL(url).pathname.slice(1);
    const first = new PostgresStore({ url });
    await first.upsert('Account', 'a', { realm: 'r' });
    await first.close();
    await server.query(db, 'INSERT INTO patronym_schema (version) VALUES (99)');
    const newer = new PostgresStore({ url });
    await expect(newer.ready()).rejects.toMatchObject({ code: 'store_schema_newer' });
    await expect(newer.find('Account', 'a')).rejects.toThrow(/schema version 99 is newer/);
    await newer.close();
    expect(await server.query(db, 'SELECT id FROM records')).toEqual([{ id: 'a' }]);
  });

  it('says which database it cannot reach, without its password', async () => {
    const store = new PostgresStore({ url: `postgres://patronym:s3cret@127.0.0.1:${server.port}/nowhere` });
    const error = await store.ready().catch((e: unknown) => e as Error);
    expect(error).toMatchObject({ code: 'store_unavailable' });
    expect((error as Error).message).toContain('127.0.0.1');
    expect((error as Error).message).not.toContain('s3cret');
    await store.close();
  });

  it('sweeps in batches: 1,234 expired rows in batches of 100, live rows kept', async () => {
    const url = await server.createDatabase();
    let t = Date.UTC(2026, 0, 1);
    const store = new PostgresStore({ url, now: () => t, sweepBatch: 100 });
    await Promise.all(Array.from({ length: 1234 }, (_, i) => store.upsert('Session', `s${i}`, {}, 10)));
    await store.upsert('Session', 'live', {}, 1000);
    t += 11_000;
    expect(await store.sweep()).toEqual({ Session: 1234 });
    expect(await store.list('Session')).toHaveLength(1);
    await store.close();
  });

  it('a sweep does not wait for a row a sign-in holds locked', async () => {
    const url = await server.createDatabase();
    let t = Date.UTC(2026, 0, 1);
    const store = new PostgresStore({ url, now: () => t });
    await store.upsert('Session', 'held', {}, 10);
    await store.upsert('Session', 'free', {}, 10);
    t += 11_000;
    const pg = await import('pg');
    const holder = new pg.default.Client({ connectionString: url });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query("SELECT 1 FROM records WHERE id = 'held' FOR UPDATE");
    expect(await store.sweep()).toEqual({ Session: 1 });
    await holder.query('ROLLBACK');
    await holder.end();
    expect(await store.sweep()).toEqual({ Session: 1 });
    await store.close();
  });
});
