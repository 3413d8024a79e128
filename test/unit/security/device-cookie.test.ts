import { describe, expect, it } from 'vitest';
import { createDeviceCookies } from '../../../src/security/device-cookie.ts';
import { fakeClock } from '../../conformance/store.suite.ts';

const KEY = 'k'.repeat(43);

describe('device cookies', () => {
  it('are valid for their own card only, and name no card', () => {
    const cookies = createDeviceCookies([KEY], { days: 180 });
    const value = cookies.issue(undefined, 'card-a');
    expect(value).not.toContain('card-a');
    expect(cookies.find(value, 'card-a')).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(cookies.find(value, 'card-b')).toBeUndefined();
    expect(cookies.find(undefined, 'card-a')).toBeUndefined();
  });

  it('refuse a tampered token, another key, or garbage', () => {
    const cookies = createDeviceCookies([KEY], { days: 180 });
    const value = cookies.issue(undefined, 'card-a');
    const [nonce, issued, mac] = value.split('.') as [string, string, string];
    const flip = (s: string) => (s[0] === 'A' ? `B${s.slice(1)}` : `A${s.slice(1)}`);
    expect(cookies.find(`${flip(nonce)}.${issued}.${mac}`, 'card-a')).toBeUndefined();
    expect(cookies.find(`${nonce}.${(Number.parseInt(issued, 36) + 1).toString(36)}.${mac}`, 'card-a')).toBeUndefined();
    expect(cookies.find(`${nonce}.${issued}.${flip(mac)}`, 'card-a')).toBeUndefined();
    expect(createDeviceCookies(['x'.repeat(43)], { days: 180 }).find(value, 'card-a')).toBeUndefined();
    for (const junk of ['', '~~~', 'a.b.c', `${value}x`, '\u0000'.repeat(100)]) {
      expect(cookies.find(junk, 'card-a')).toBeUndefined();
    }
  });

  it('expire after their lifetime', () => {
    const clock = fakeClock();
    const cookies = createDeviceCookies([KEY], { days: 180, now: clock.now });
    const value = cookies.issue(undefined, 'card-a');
    clock.advance(179 * 86_400_000);
    expect(cookies.find(value, 'card-a')).toBeDefined();
    clock.advance(86_400_000);
    expect(cookies.find(value, 'card-a')).toBeUndefined();
  });

  it('stay valid while the key that signed them is still listed (cookie key rotation)', () => {
    const old = createDeviceCookies([KEY], { days: 180 });
    const value = old.issue(undefined, 'card-a');
    const rotated = createDeviceCookies(['n'.repeat(43), KEY], { days: 180 });
    expect(rotated.find(value, 'card-a')).toBe(old.find(value, 'card-a'));
    expect(createDeviceCookies(['n'.repeat(43)], { days: 180 }).find(value, 'card-a')).toBeUndefined();
  });

  it('keep a few cards per browser, the newest first, one token per card', () => {
    const cookies = createDeviceCookies([KEY], { days: 180 });
    let value: string | undefined;
    for (const card of ['a', 'b', 'c', 'd', 'e', 'f']) value = cookies.issue(value, card);
    expect(value?.split('~')).toHaveLength(5);
    expect(cookies.find(value, 'a')).toBeUndefined();
    const before = cookies.find(value, 'f');
    value = cookies.issue(value, 'f');
    expect(value.split('~')).toHaveLength(5);
    // a new token, hence a new budget, for the card signed in again
    expect(cookies.find(value, 'f')).not.toBe(before);
    expect(cookies.find(value, 'b')).toBeDefined();
  });
});
