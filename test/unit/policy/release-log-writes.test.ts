// How often the release log is written: once a day per vendor while what
// the vendor received stays the same (a second sign-in that day changes
// nothing the patron can see), and never so rarely that an entry expires
// more than a day before the retention period after its last use.
import { describe, expect, it, vi } from 'vitest';
import { ReleaseLog } from '../../../src/policy/release-log.ts';
import { MemoryStore } from '../../../src/store/memory.ts';
import { fakeClock } from '../../conformance/store.suite.ts';

const DAY = 86_400_000;

describe('ReleaseLog.record', () => {
  it('writes at most once a day per vendor while what it received stays the same', async () => {
    const clock = fakeClock(Date.UTC(2026, 0, 1, 9));
    const store = new MemoryStore({ now: clock.now });
    const update = vi.spyOn(store, 'update');
    const log = new ReleaseLog(store, clock.now);
    for (let i = 0; i < 5; i++) await log.record('acc', 'vendor-a', [], 30);
    expect(update).toHaveBeenCalledTimes(1);
    // Something more received: written at once, the earlier item kept.
    await log.record('acc', 'vendor-a', ['affiliation'], 30);
    await log.record('acc', 'vendor-a', [], 30);
    await log.record('acc', 'vendor-a', ['affiliation'], 30);
    expect(update).toHaveBeenCalledTimes(2);
    // Another vendor: written at once.
    await log.record('acc', 'vendor-b', [], 30);
    expect(update).toHaveBeenCalledTimes(3);
    expect(await log.list('acc')).toEqual({
      'vendor-a': { first: '2026-01-01', last: '2026-01-01', received: ['affiliation'] },
      'vendor-b': { first: '2026-01-01', last: '2026-01-01', received: [] },
    });
    // The next day: written again, with the new last day.
    clock.advance(DAY);
    await log.record('acc', 'vendor-a', [], 30);
    expect(update).toHaveBeenCalledTimes(4);
    expect((await log.list('acc'))['vendor-a']).toEqual({
      first: '2026-01-01',
      last: '2026-01-02',
      received: ['affiliation'],
    });
  });

  it('writes again over a stored entry of today that lists no releases (a damaged record)', async () => {
    const clock = fakeClock(Date.UTC(2026, 0, 1, 9));
    const store = new MemoryStore({ now: clock.now });
    await store.upsert('ReleaseLog', 'acc', {
      accountId: 'acc',
      vendors: { 'vendor-a': { first: '2026-01-01', last: '2026-01-01' } },
    });
    const log = new ReleaseLog(store, clock.now);
    await log.record('acc', 'vendor-a', ['affiliation'], 30);
    expect((await log.list('acc'))['vendor-a']).toEqual({
      first: '2026-01-01',
      last: '2026-01-01',
      received: ['affiliation'],
    });
  });

  it('keeps the record for the retention period after the last day of use, a day less at most', async () => {
    const clock = fakeClock(Date.UTC(2026, 0, 1, 0, 30));
    const store = new MemoryStore({ now: clock.now });
    const log = new ReleaseLog(store, clock.now);
    for (let d = 0; d < 20; d++) {
      // Morning and evening sign-ins; only the morning's is written.
      await log.record('acc', 'vendor-a', [], 10);
      clock.advance(DAY / 2 + DAY / 4);
      await log.record('acc', 'vendor-a', [], 10);
      clock.advance(DAY / 4);
    }
    // The last use was on day 19 at 18:30 (now is day 20, 00:30): still
    // there a day before the period's end, gone once it ended.
    clock.advance(9 * DAY - DAY / 4);
    expect(await log.list('acc')).toHaveProperty('vendor-a');
    clock.advance(DAY + 60_000);
    expect(await log.list('acc')).toEqual({});
    expect(await store.find('ReleaseLog', 'acc')).toBeUndefined();
  });
});
