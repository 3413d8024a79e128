// A sign-in keeps the patron's account record alive; issue 18's profile
// showed its rewrite at every sign-in as one of the 14 write transactions
// of a sign-in. It is rewritten when something changed or a day passed.
import { describe, expect, it, vi } from 'vitest';
import { Accounts } from '../../../src/oidc/account.ts';
import { MemoryStore } from '../../../src/store/memory.ts';
import { fakeClock } from '../../conformance/store.suite.ts';

const KEY = Buffer.alloc(32, 7);
const DAY = 86_400_000;

describe('Accounts.touch', () => {
  it('writes the record at most once a day while nothing changes', async () => {
    const clock = fakeClock(Date.UTC(2026, 0, 1, 9));
    const store = new MemoryStore({ now: clock.now });
    const update = vi.spyOn(store, 'update');
    const accounts = new Accounts(store, 180 * 86_400, KEY, clock.now);
    for (let i = 0; i < 5; i++) await accounts.touch('acc', 'springfield', 'springfield');
    expect(update).toHaveBeenCalledTimes(1);
    // Another library of the realm: written at once.
    await accounts.touch('acc', 'springfield', 'shelbyville');
    expect(update).toHaveBeenCalledTimes(2);
    expect(await accounts.get('acc')).toEqual({ realm: 'springfield', library: 'shelbyville' });
    // The next day: written again, so the record lives on.
    clock.advance(DAY);
    await accounts.touch('acc', 'springfield', 'shelbyville');
    expect(update).toHaveBeenCalledTimes(3);
  });

  it('keeps the record for the retention period after the last day of use', async () => {
    const clock = fakeClock(Date.UTC(2026, 0, 1, 9));
    const store = new MemoryStore({ now: clock.now });
    const accounts = new Accounts(store, 10 * 86_400, KEY, clock.now);
    for (let day = 0; day < 30; day++) {
      await accounts.touch('acc', 'springfield', 'springfield');
      clock.advance(DAY);
    }
    // Last written on day 29 (a day ago): alive for 9 days more, then gone.
    clock.advance(8 * DAY);
    expect(await accounts.get('acc')).toBeDefined();
    clock.advance(2 * DAY);
    expect(await accounts.get('acc')).toBeUndefined();
  });
});
