// Issue 18 on PostgreSQL: with many expired (and live) records in the
// table, every statement the store sends is planned as an index search on
// the keys it is about (the generic plan, which prepared statements settle
// on), and a sweep batch reads only the rows it deletes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../../src/store/postgres.ts';
import { type Postgres, postgresAvailable, startPostgres } from '../../support/postgres.ts';

const available = postgresAvailable();
let server: Postgres;
beforeAll(async () => {
  if (available) server = await startPostgres();
}, 60_000);
afterAll(async () => {
  await server?.dispose();
});

describe.runIf(available)('postgres store and expired records', () => {
  it('plans every statement as an index search, whatever the table holds', async () => {
    const url = await server.createDatabase();
    const store = new PostgresStore({ url });
    const N = 20_000;
    // Half expired, half live, as between two sweeps of a busy day.
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        for (let i = w; i < N; i += 8) {
          const payload = { uid: `u${i}`, accountId: `a${i % 100}`, grantId: `g${i}` };
          await store.upsert('Session', `s${i}`, payload, i % 2 ? -60 : 3600);
        }
      }),
    );
    // Every kind of statement once, so the store has sent each.
    await store.find('Session', 's1');
    await store.findMany([
      { model: 'Session', id: 's1' },
      { model: 'Session', id: 's3' },
    ]);
    await store.findByUid('Session', 'u1');
    await store.findByUserCode('DeviceCode', 'x');
    await store.consume('AuthorizationCode', 'c');
    await store.update('Account', 'a', () => ({ n: 1 }), 60);
    await store.update('Account', 'a', () => ({ n: 2 }), 60);
    await store.destroy('Interaction', 'i');
    await store.revokeByGrantId('g2');
    await store.findByAccount('a1');
    await store.increment('Counter', 'x', 60);
    expect((await store.sweep()).Session).toBe(N / 2);
    await server.query(new URL(url).pathname.slice(1), 'ANALYZE');
    const plans = await store.queryPlans();
    expect(Object.keys(plans).length).toBeGreaterThanOrEqual(12);
    for (const [statement, plan] of Object.entries(plans)) {
      expect(plan, statement).not.toMatch(/Seq Scan on records\b/);
    }
    // Several keys at once: an index search per key, not a scan of the model.
    const many = Object.entries(plans).find(([statement]) => statement.includes('UNION ALL'));
    expect(many?.[1].match(/Index Scan using records_pkey on records/g)).toHaveLength(2);
    const sweep = Object.entries(plans).find(([statement]) => statement.startsWith('DELETE FROM records WHERE ctid'));
    expect(sweep?.[1]).toMatch(/Tid Scan on records/);
    await store.close();
  }, 120_000);
});
