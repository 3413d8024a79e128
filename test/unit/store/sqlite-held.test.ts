// The write-behind's held records (src/store/sqlite-held.ts): the uid index
// answers for held records only, and keeps no entry for a record that was
// dropped or written (a second's sessions and interactions, destroyed
// before any flush, would otherwise pile up in it).
import { describe, expect, it } from 'vitest';
import { HeldRecords, type HeldRow, heldKey } from '../../../src/store/sqlite-held.ts';

const row = (model: string, id: string, uid: string | null): HeldRow => ({
  model,
  id,
  payload: JSON.stringify({ uid }),
  grantId: null,
  uid,
  userCode: null,
  accountId: null,
  expiresAt: null,
});

describe('sqlite write-behind: held records', () => {
  it('keeps no uid entry for records dropped before a flush', () => {
    const held = new HeldRecords();
    for (let i = 0; i < 1000; i++) held.set(heldKey('Interaction', `i${i}`), row('Interaction', `i${i}`, `u${i}`));
    expect(held.uids).toBe(1000);
    for (let i = 0; i < 1000; i++) held.delete(heldKey('Interaction', `i${i}`));
    expect(held.uids).toBe(0);
    expect(held.byUid('Interaction', 'u1')).toBeUndefined();
  });

  it('keeps no uid entry once a flush wrote the record, and keeps it when the flush failed', () => {
    const held = new HeldRecords();
    held.set(heldKey('Session', 's1'), row('Session', 's1', 'u1'));
    held.set(heldKey('Session', 's2'), row('Session', 's2', 'u2'));
    const failed = held.take();
    expect(held.byUid('Session', 'u1')?.id).toBe('s1');
    failed.done(true);
    expect(held.byUid('Session', 'u1')?.id).toBe('s1');
    expect(held.uids).toBe(2);
    const written = held.take();
    // A newer copy of s2 arrives while the flush runs: its entry stays.
    held.set(heldKey('Session', 's2'), row('Session', 's2', 'u2'));
    written.done(false);
    expect(held.byUid('Session', 'u1')).toBeUndefined();
    expect(held.byUid('Session', 'u2')?.id).toBe('s2');
    expect(held.uids).toBe(1);
  });
});
