// Two brokers on one PostgreSQL count one patron once: each records the
// sign-ins whose code it redeems into the same day record, hashing under
// the same period key (whichever instance created it first).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/schema.ts';
import { readStats } from '../../src/stats/report.ts';
import { type RunningBroker, startLogin, submitLogin, type Vendor, vendor } from '../support/broker.ts';
import { type Postgres, postgresAvailable, startPostgres } from '../support/postgres.ts';
import { useBroker } from '../support/use-broker.ts';

const P1 = { card: '21234000000001', pin: '1234' };
const P2 = { card: '21234000000002', pin: '2345' };
const available = postgresAvailable();

describe.runIf(available)('statistics from two instances on one PostgreSQL', () => {
  let server: Postgres;
  let config: Partial<ConfigInput>;
  let v: Vendor;

  afterAll(async () => {
    await server?.dispose();
  });
  const a = useBroker(async () => {
    server = await startPostgres();
    const store = { kind: 'postgres' as const, url: await server.createDatabase() };
    // Threshold 1: the test reads exact small counts.
    config = { store, stats: { threshold: 1 } };
    return { config };
  });
  const b = useBroker(() => ({ dir: a.dir, config: { ...config, issuer: a.issuer } }));
  beforeAll(async () => {
    v = await vendor(a.issuer, 'demo-vendor', 'demo-vendor-secret');
  });

  // The patron's side on A; the vendor redeems its code at `at` (where the
  // sign-in is counted).
  async function signIn(patron: { card: string; pin: string }, at: RunningBroker): Promise<void> {
    const started = await startLogin(v, a.issuer);
    const done = await submitLogin(started, a.issuer, patron.card, patron.pin);
    const code = new URL(done.leftFor ?? 'http://x/').searchParams.get('code') ?? '';
    const response = await fetch(`http://127.0.0.1:${at.port}/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from('demo-vendor:demo-vendor-secret').toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: v.redirectUri,
        code_verifier: started.verifier,
      }).toString(),
    });
    expect(response.status).toBe(200);
    await response.arrayBuffer();
  }

  it('counts every sign-in once and each patron once, whichever instance redeemed the code', async () => {
    await signIn(P1, a);
    await signIn(P1, b);
    // At once, on both instances: the day record's updates must not lose one.
    await Promise.all([P1, P2, P1, P2, P1, P2, P1, P2].map((p, i) => signIn(p, i % 2 ? a : b)));
    const month = new Date().toISOString().slice(0, 7);
    for (const instance of [a, b]) {
      const rows = await readStats(instance.store, { since: month, until: month, granularity: 'month' });
      expect(rows.map(({ patrons: _, ...row }) => row)).toEqual([
        { library: 'springfield', vendor: 'demo-vendor', period: month, signIns: 10 },
      ]);
      // Two patrons: 2 (1 only in the 1 in 4,096 runs where both land in one
      // register); a patron counted on each instance would make 3 or 4.
      expect(rows[0]?.patrons).toBeGreaterThanOrEqual(1);
      expect(rows[0]?.patrons).toBeLessThanOrEqual(2);
    }
    // One key per period, shared: not one per instance.
    expect((await a.store.list('StatsKey')).map((r) => r.id.split(':')[0]).sort()).toEqual(['day', 'month']);
  });

  it('writes an instance’s last second of sign-ins when it shuts down', async () => {
    await signIn(P2, b);
    // Straight to shutdown: b's close() must wait for its recorder's last
    // flush before its pool ends (counts are written once a second).
    await b.restart();
    const month = new Date().toISOString().slice(0, 7);
    const rows = await readStats(a.store, { since: month, until: month, granularity: 'month' });
    expect(rows[0]?.signIns).toBe(11);
  });
});
