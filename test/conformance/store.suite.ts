// The contract every store keeps. A new store runs `storeSuite` from its own
// test file; a case it cannot pass is skipped there with the reason in code.
import { type RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.ts';

export interface Clock {
  now: () => number;
  advance(ms: number): void;
}

export function fakeClock(start = Date.UTC(2026, 0, 1)): Clock {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

// `open` returns a fresh, empty store bound to the given clock; `reopen`
// (for persistent stores) returns a new instance over the same data.
export interface StoreFactory {
  open(clock: Clock): Promise<Store>;
  reopen?(clock: Clock): Promise<Store>;
}

export function storeSuite(name: string, factory: StoreFactory): void {
  describe(`store conformance: ${name}`, () => {
    let clock: Clock;
    let store: Store;
    beforeEach(async () => {
      clock = fakeClock();
      store = await factory.open(clock);
    });
    afterEach(async () => {
      await store.close();
    });

    it('returns what was upserted, as a copy', async () => {
      const payload = { accountId: 'a1', nested: { list: [1, 2] } };
      await store.upsert('Session', 's1', payload, 60);
      payload.nested.list.push(3);
      expect(await store.find('Session', 's1')).toEqual({ accountId: 'a1', nested: { list: [1, 2] } });
      expect(await store.find('Session', 'missing')).toBeUndefined();
    });

    it('keeps models apart', async () => {
      await store.upsert('Session', 'x', { a: 1 }, 60);
      await store.upsert('Grant', 'x', { b: 2 }, 60);
      expect(await store.find('Session', 'x')).toEqual({ a: 1 });
      expect(await store.find('Grant', 'x')).toEqual({ b: 2 });
    });

    it('replaces on a second upsert, including the expiry', async () => {
      await store.upsert('Session', 's1', { v: 1 }, 10);
      await store.upsert('Session', 's1', { v: 2 }, 100);
      clock.advance(50_000);
      expect(await store.find('Session', 's1')).toEqual({ v: 2 });
    });

    it('never returns an expired record, and sweep deletes only expired ones', async () => {
      await store.upsert('AccessToken', 'short', { grantId: 'g' }, 10);
      await store.upsert('AccessToken', 'long', { grantId: 'g' }, 1000);
      await store.upsert('Account', 'forever', { realm: 'r' });
      clock.advance(10_000);
      expect(await store.find('AccessToken', 'short')).toBeUndefined();
      expect(await store.find('AccessToken', 'long')).toBeDefined();
      expect(await store.sweep()).toEqual({ AccessToken: 1 });
      expect(await store.sweep()).toEqual({});
      expect(await store.find('AccessToken', 'long')).toBeDefined();
      expect(await store.find('Account', 'forever')).toEqual({ realm: 'r' });
    });

    it('finds by uid and by user code, within the model, unless expired', async () => {
      await store.upsert('Session', 's1', { uid: 'u1' }, 60);
      await store.upsert('Interaction', 'i1', { uid: 'u1' }, 60);
      await store.upsert('DeviceCode', 'd1', { userCode: 'ABCD-EFGH' }, 5);
      expect(await store.findByUid('Session', 'u1')).toEqual({ uid: 'u1' });
      expect(await store.findByUid('Session', 'u2')).toBeUndefined();
      expect(await store.findByUserCode('DeviceCode', 'ABCD-EFGH')).toEqual({ userCode: 'ABCD-EFGH' });
      clock.advance(6_000);
      expect(await store.findByUserCode('DeviceCode', 'ABCD-EFGH')).toBeUndefined();
    });

    it('finds by uid the record that has it now: not once destroyed, revoked or swept, not by a uid it no longer has', async () => {
      await store.upsert('Session', 's1', { uid: 'u1' }, 60);
      await store.upsert('Session', 's2', { uid: 'u2', grantId: 'g2' }, 60);
      await store.destroy('Session', 's1');
      expect(await store.findByUid('Session', 'u1')).toBeUndefined();
      // A new copy of s2 under another uid: the old uid finds nothing.
      await store.upsert('Session', 's2', { uid: 'u3' }, 60);
      expect(await store.findByUid('Session', 'u2')).toBeUndefined();
      expect(await store.findByUid('Session', 'u3')).toEqual({ uid: 'u3' });
      // Another record takes the uid over (a session whose id was renewed).
      await store.upsert('Session', 's4', { uid: 'u3', grantId: 'g4' }, 600);
      await store.destroy('Session', 's2');
      expect(await store.findByUid('Session', 'u3')).toEqual({ uid: 'u3', grantId: 'g4' });
      await store.revokeByGrantId('g4');
      expect(await store.findByUid('Session', 'u3')).toBeUndefined();
      await store.upsert('Session', 's5', { uid: 'u5' }, 10);
      await store.upsert('Session', 's6', { uid: 'u5' }, 100);
      clock.advance(20_000);
      await store.sweep();
      expect(await store.findByUid('Session', 'u5')).toEqual({ uid: 'u5' });
      await store.update('Session', 's6', () => ({ uid: 'u6' }), 100);
      expect(await store.findByUid('Session', 'u5')).toBeUndefined();
      expect(await store.findByUid('Session', 'u6')).toEqual({ uid: 'u6' });
    });

    it('marks a record consumed with the time, keeping it', async () => {
      await store.upsert('AuthorizationCode', 'c1', { grantId: 'g' }, 60);
      clock.advance(2_000);
      await store.consume('AuthorizationCode', 'c1');
      const found = await store.find('AuthorizationCode', 'c1');
      expect(found?.consumed).toBe(Math.floor(clock.now() / 1000));
      expect(found?.grantId).toBe('g');
      await store.consume('AuthorizationCode', 'missing');
    });

    it('consumes once: of 20 parallel consumes one succeeds; a missing or expired record is not consumed', async () => {
      await store.upsert('AuthorizationCode', 'c1', { grantId: 'g' }, 60);
      const results = await Promise.all(Array.from({ length: 20 }, () => store.consume('AuthorizationCode', 'c1')));
      expect(results.filter((r) => r === true)).toHaveLength(1);
      expect(await store.consume('AuthorizationCode', 'c1')).toBe(false);
      expect(await store.consume('AuthorizationCode', 'missing')).toBe(false);
      await store.upsert('AuthorizationCode', 'c2', { grantId: 'g' }, 5);
      clock.advance(6_000);
      expect(await store.consume('AuthorizationCode', 'c2')).toBe(false);
    });

    it('destroys one record', async () => {
      await store.upsert('Session', 's1', {}, 60);
      await store.upsert('Session', 's2', {}, 60);
      await store.destroy('Session', 's1');
      await store.destroy('Session', 'missing');
      expect(await store.find('Session', 's1')).toBeUndefined();
      expect(await store.find('Session', 's2')).toBeDefined();
    });

    it('revokes every record of a grant across models, and nothing else', async () => {
      await store.upsert('AccessToken', 'at', { grantId: 'g1' }, 60);
      await store.upsert('RefreshToken', 'rt', { grantId: 'g1' }, 60);
      await store.upsert('AuthorizationCode', 'ac', { grantId: 'g1' }, 60);
      await store.upsert('AccessToken', 'other', { grantId: 'g2' }, 60);
      await store.revokeByGrantId('g1');
      expect(await store.find('AccessToken', 'at')).toBeUndefined();
      expect(await store.find('RefreshToken', 'rt')).toBeUndefined();
      expect(await store.find('AuthorizationCode', 'ac')).toBeUndefined();
      expect(await store.find('AccessToken', 'other')).toBeDefined();
    });

    it('finds every live record of one account, across models', async () => {
      await store.upsert('Session', 's1', { accountId: 'a1', uid: 'u' }, 60);
      await store.upsert('Grant', 'g1', { accountId: 'a1', clientId: 'v' }, 60);
      await store.upsert('ReleaseLog', 'a1', { accountId: 'a1' }, 5);
      await store.upsert('Grant', 'g2', { accountId: 'a2', clientId: 'v' }, 60);
      clock.advance(6_000);
      const found = await store.findByAccount('a1');
      expect(found.map((r) => `${r.model}/${r.id}`).sort()).toEqual(['Grant/g1', 'Session/s1']);
      expect(found.find((r) => r.model === 'Grant')?.payload).toEqual({ accountId: 'a1', clientId: 'v' });
      expect(await store.findByAccount('nobody')).toEqual([]);
    });

    it('counts atomically within a window that starts at the first event', async () => {
      const counts = await Promise.all(Array.from({ length: 20 }, () => store.increment('Throttle', 'card:x', 10)));
      expect(counts.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      clock.advance(6_000);
      expect(await store.increment('Throttle', 'card:x', 10)).toBe(21); // not extended by use
      clock.advance(4_000);
      expect(await store.increment('Throttle', 'card:x', 10)).toBe(1); // a new window
      expect(await store.increment('Throttle', 'card:y', 10)).toBe(1);
      expect(await store.find('Throttle', 'card:x')).toEqual({ n: 1 });
    });

    it('updates a record atomically: 200 parallel updates lose none', async () => {
      const append = (tag: string) => (current: Record<string, unknown> | undefined) => ({
        seen: [...((current?.seen as string[] | undefined) ?? []), tag],
      });
      await Promise.all(Array.from({ length: 200 }, (_, i) => store.update('ReleaseLog', 'r1', append(`t${i}`))));
      const seen = (await store.find('ReleaseLog', 'r1'))?.seen as string[];
      expect(seen).toHaveLength(200);
      expect(new Set(seen).size).toBe(200);
    });

    it('update writes nothing when change throws, and rejects with its error', async () => {
      await store.upsert('Consent', 'a', { v: 1 }, 60);
      const refused = new Error('changed my mind');
      await expect(
        store.update('Consent', 'a', () => {
          throw refused;
        }),
      ).rejects.toBe(refused);
      await expect(
        store.update('Consent', 'new', () => {
          throw refused;
        }),
      ).rejects.toBe(refused);
      expect(await store.find('Consent', 'a')).toEqual({ v: 1 });
      expect(await store.find('Consent', 'new')).toBeUndefined();
    });

    it('update sees an expired record as missing, and sets the new expiry', async () => {
      await store.upsert('Account', 'a', { n: 5 }, 10);
      clock.advance(11_000);
      const written = await store.update('Account', 'a', (current) => ({ n: Number(current?.n ?? 0) + 1 }), 10);
      expect(written).toEqual({ n: 1 });
      clock.advance(9_000);
      expect(await store.find('Account', 'a')).toEqual({ n: 1 });
      clock.advance(2_000);
      expect(await store.find('Account', 'a')).toBeUndefined();
      await store.update('Account', 'b', () => ({ kept: true }));
      clock.advance(10 ** 12);
      expect(await store.find('Account', 'b')).toEqual({ kept: true });
    });

    it('lists the live records of one model', async () => {
      await store.upsert('Client', 'a', { client_id: 'a' });
      await store.upsert('Client', 'b', { client_id: 'b' }, 5);
      await store.upsert('Grant', 'c', {}, 60);
      clock.advance(6_000);
      expect(await store.list('Client')).toEqual([{ model: 'Client', id: 'a', payload: { client_id: 'a' } }]);
      expect(await store.list('Nothing')).toEqual([]);
    });

    it('dumps every live record of every model with its expiry, in pages', async () => {
      await Promise.all(Array.from({ length: 1203 }, (_, i) => store.upsert('Session', `s${i}`, { i }, 60)));
      await store.upsert('Account', 'a', { realm: 'r' });
      await store.upsert('Grant', 'gone', {}, 1);
      await store.upsert('Consent', 'ünï\u0000x', { accountId: 'a' }, 120);
      clock.advance(2_000);
      const dumped = [];
      for await (const record of store.dump()) dumped.push(record);
      expect(dumped).toHaveLength(1205);
      expect(new Set(dumped.map((r) => `${r.model}/${r.id}`)).size).toBe(1205);
      expect(dumped.find((r) => r.model === 'Account')).toEqual({ model: 'Account', id: 'a', payload: { realm: 'r' } });
      expect(dumped.find((r) => r.model === 'Consent')).toEqual({
        model: 'Consent',
        id: 'ünï\u0000x',
        payload: { accountId: 'a' },
        expiresAt: clock.now() - 2_000 + 120_000,
      });
      expect(dumped.find((r) => r.model === 'Grant')).toBeUndefined();
    });

    it('sweeps by model, reporting counts per model', async () => {
      await store.upsert('Session', 's1', {}, 1);
      await store.upsert('Session', 's2', {}, 1);
      await store.upsert('Grant', 'g1', {}, 1);
      await store.upsert('Grant', 'g2', {}, 100);
      clock.advance(2_000);
      expect(await store.sweep()).toEqual({ Session: 2, Grant: 1 });
    });

    it('keeps NUL and any other character in payload strings and indexed fields (a hostile nonce or state)', async () => {
      const odd = 'a\u0000b\\0\uE000x';
      const payload = { nonce: odd, uid: odd, grantId: odd, accountId: odd, list: [odd, '\uE000nul:'], n: 1 };
      await store.upsert('AuthorizationCode', 'c', payload, 60);
      expect(await store.find('AuthorizationCode', 'c')).toEqual(payload);
      expect(await store.findByUid('AuthorizationCode', odd)).toEqual(payload);
      expect((await store.findByAccount(odd)).map((r) => r.id)).toEqual(['c']);
      expect(await store.consume('AuthorizationCode', 'c')).toBe(true);
      expect((await store.find('AuthorizationCode', 'c'))?.nonce).toBe(odd);
      await store.update('AuthorizationCode', 'c', (current) => ({ ...current, extra: odd }), 60);
      expect((await store.list('AuthorizationCode'))[0]?.payload.extra).toBe(odd);
      await store.revokeByGrantId(odd);
      expect(await store.find('AuthorizationCode', 'c')).toBeUndefined();
    });

    it('finds several records at once, in the order asked: missing, expired and other models as undefined', async () => {
      const odd = 'ünï\u0000\\0x';
      await store.upsert('Account', 'a', { realm: 'r' });
      await store.upsert('PseudonymGeneration', odd, { floor: 2 });
      await store.upsert('Session', 'short', { n: 1 }, 1);
      await store.upsert('Session', 'long', { n: 2 }, 60);
      clock.advance(2_000);
      expect(
        await store.findMany([
          { model: 'PseudonymGeneration', id: odd },
          { model: 'Account', id: 'missing' },
          { model: 'Session', id: 'short' },
          { model: 'Account', id: 'a' },
          { model: 'Grant', id: 'a' },
          { model: 'Session', id: 'long' },
          { model: 'Account', id: 'a' },
        ]),
      ).toEqual([{ floor: 2 }, undefined, undefined, { realm: 'r' }, undefined, { n: 2 }, { realm: 'r' }]);
      expect(await store.findMany([])).toEqual([]);
      // Copies, as find's are.
      const [first] = await store.findMany([{ model: 'Account', id: 'a' }]);
      if (first) first.realm = 'changed';
      expect(await store.find('Account', 'a')).toEqual({ realm: 'r' });
    });

    it('stores ids and payloads with any characters', async () => {
      const id = 'ünï/côde\u0000\'"; DROP TABLE records;--';
      await store.upsert('Session', id, { text: 'ünï 💡', n: 1.5, t: true, z: null }, 60);
      expect(await store.find('Session', id)).toEqual({ text: 'ünï 💡', n: 1.5, t: true, z: null });
    });

    if (factory.reopen) {
      const reopen = factory.reopen;
      it('keeps records across a restart', async () => {
        await store.upsert('RefreshToken', 'rt', { grantId: 'g', accountId: 'a' }, 3600);
        await store.upsert('Account', 'a', { realm: 'r' });
        await store.close();
        store = await reopen(clock);
        expect(await store.find('RefreshToken', 'rt')).toEqual({ grantId: 'g', accountId: 'a' });
        expect(await store.find('Account', 'a')).toEqual({ realm: 'r' });
      });
    }
  });

  // Store.limiter: the throttle's counters (security/throttle.ts). The bound
  // must hold whatever the concurrency: an attempt is counted before it is
  // checked. Limiters count on the wall clock (rate-limiter-flexible's own).
  describe(`store conformance: ${name} limiter`, () => {
    let store: Store;
    const options = { keyPrefix: 'conformance', points: 10, duration: 60, blockDuration: 120 };
    const settle = async (limiter: RateLimiterAbstract, key: string, n: number) => {
      const results = await Promise.allSettled(Array.from({ length: n }, () => limiter.consume(key)));
      return results.filter((r) => r.status === 'fulfilled').length;
    };
    beforeEach(async () => {
      store = await factory.open(fakeClock());
    });
    afterEach(async () => {
      await store.close();
    });

    it('lets exactly `points` of 200 parallel attempts through, then blocks for blockDuration', async () => {
      const limiter = await store.limiter(options);
      expect(await settle(limiter, 'k', 200)).toBe(10);
      const refused = await limiter.consume('k').catch((res: RateLimiterRes) => res);
      expect(refused).toBeInstanceOf(RateLimiterRes);
      expect((refused as RateLimiterRes).msBeforeNext).toBeGreaterThan(60_000);
      expect((refused as RateLimiterRes).msBeforeNext).toBeLessThanOrEqual(120_000);
    });

    it('keeps keys and prefixes apart, shares counters between limiters of one prefix', async () => {
      const a = await store.limiter(options);
      const again = await store.limiter(options);
      const other = await store.limiter({ ...options, keyPrefix: 'conformance_other' });
      expect(await settle(a, 'k', 6)).toBe(6);
      expect(await settle(again, 'k', 6)).toBe(4);
      expect(await settle(a, 'j', 3)).toBe(3);
      expect(await settle(other, 'k', 12)).toBe(10);
    });

    it('refunds with reward and forgets with delete', async () => {
      const limiter = await store.limiter(options);
      expect((await limiter.consume('k', 3)).consumedPoints).toBe(3);
      await limiter.reward('k', 1);
      expect((await limiter.consume('k')).consumedPoints).toBe(3);
      await limiter.delete('k');
      expect((await limiter.consume('k')).consumedPoints).toBe(1);
    });

    if (factory.reopen) {
      const reopen = factory.reopen;
      it('shares counters with another instance over the same data (another broker process)', async () => {
        const second = await reopen(fakeClock());
        try {
          const [mine, theirs] = [await store.limiter(options), await second.limiter(options)];
          const results = await Promise.allSettled(
            Array.from({ length: 100 }, (_, i) => (i % 2 ? mine : theirs).consume('shared')),
          );
          expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
        } finally {
          await second.close();
        }
      });
    }
  });
}
