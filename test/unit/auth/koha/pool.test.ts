// The connection pool of the shared ILS client (shown with koha): many
// concurrent sign-ins share at most `poolSize` connections, which are kept
// alive between sign-ins and all closed by close().
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ILS_CARDS } from '../../../support/ils-http.ts';
import { type KohaSimulator, startKohaSimulator } from '../../../support/ils-koha.ts';
import { kohaFor } from './helpers.ts';

let sim: KohaSimulator;
beforeAll(async () => {
  sim = await startKohaSimulator();
});
afterAll(() => sim.stop());

const eventually = async (check: () => boolean) => {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
  expect(check()).toBe(true);
};

describe('ILS client pool', () => {
  it('40 concurrent sign-ins over 2 connections, reused later, closed by close()', async () => {
    const a = kohaFor(sim, { poolSize: 2, timeout: 2 });
    // Slow answers make the sign-ins overlap, whatever the machine's speed.
    sim.setMisbehaviour({ kind: 'slow', ms: 30 });
    try {
      const attempts = Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? ILS_CARDS.active : ILS_CARDS.wrongPin));
      const results = await Promise.all(attempts.map((c) => a.authenticate(c)));
      expect(results.map((r) => r.kind)).toEqual(attempts.map((_, i) => (i % 2 === 0 ? 'ok' : 'denied')));
    } finally {
      sim.setMisbehaviour(undefined);
    }
    expect(sim.peakConnections()).toBe(2);
    await new Promise((r) => setTimeout(r, 200));
    expect((await a.authenticate(ILS_CARDS.active)).kind).toBe('ok');
    expect(sim.peakConnections()).toBe(2);
    expect(sim.connections()).toBeGreaterThan(0);
    await a.close();
    await eventually(() => sim.connections() === 0);
  });
});
