// PIN guessing as an attacker would try it: hundreds of guesses posted at
// once on the real sign-in form, and a card locked by a stranger while its
// owner wants in. Backend checks are counted in the library's own (file)
// authenticator, wrapped where the broker holds it.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Authenticator, AuthResult } from '../../src/auth/authenticator.ts';
import { CookieJar, follow, formField, type StartedLogin, startLogin, type Vendor, vendor } from '../support/broker.ts';
import { expectAbsent } from '../support/leaks.ts';
import { useBroker } from '../support/use-broker.ts';

const LOCK_AFTER = 10;
const ADDRESS_LOCK_AFTER = 30;

describe('throttle under attack', () => {
  let v: Vendor;
  // Every card the backend was asked about, in order.
  const checked: string[] = [];
  // While set, backend checks wait for it: a burst stays in flight.
  let gate: Promise<void> | undefined;

  const b = useBroker({ config: { trustedProxies: ['127.0.0.1/32'] } });
  beforeAll(async () => {
    v = await vendor(b.issuer, 'demo-vendor', 'demo-vendor-secret');
    const file = b.broker.libraries.get('springfield')?.chain[0] as Authenticator;
    const real = file.authenticate.bind(file);
    file.authenticate = async (credentials): Promise<AuthResult> => {
      checked.push(credentials.card);
      // Only the burst's wrong PINs wait: a right PIN that got through
      // would sign in at once (and fail the test), not hang.
      if (credentials.pin !== '1234') await gate;
      return real(credentials);
    };
  });

  // One POST of the sign-in form of `started`, from `ip` (we are the trusted proxy).
  function post(started: StartedLogin, card: string, pin: string, ip: string, extra: Record<string, string> = {}) {
    const action = /action="([^"]+\/login)"/.exec(started.loginPage)?.[1] ?? '';
    return follow(started.jar, b.issuer, new URL(action, b.issuer).href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': ip },
      body: new URLSearchParams({ csrf: formField(started.loginPage, 'csrf') ?? '', card, pin, ...extra }).toString(),
    });
  }
  const count = (card: string) => checked.filter((c) => c === card).length;
  const wrongPin = (i: number) => String(5000 + i);

  it('lets at most lockAfter of 200 parallel wrong PINs for one card reach the library’s system', async () => {
    const card = '21234000000004';
    const form = await startLogin(v, b.issuer);
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) => post(form, card, wrongPin(i), `198.51.100.${i % 250}`)),
    );
    expect(count(card)).toBe(LOCK_AFTER);
    const statuses = answers.map((a) => a.response.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(LOCK_AFTER);
    expect(statuses.filter((s) => s === 429)).toHaveLength(200 - LOCK_AFTER);
    expect(answers.find((a) => a.response.status === 429)?.body).toContain('locked for 15 minutes');
  });

  it('never signs in the right PIN posted inside a burst', async () => {
    const card = '21234000000001';
    let open = () => {};
    gate = new Promise((resolve) => (open = resolve));
    const form = await startLogin(v, b.issuer);
    const burst = Array.from({ length: 200 }, (_, i) => post(form, card, wrongPin(i), `203.0.113.${i % 250}`));
    // The first lockAfter guesses are at the backend (held there), the rest refused.
    for (let i = 0; i < 200 && count(card) < LOCK_AFTER; i++) await new Promise((r) => setTimeout(r, 25));
    const right = await post(await startLogin(v, b.issuer), card, '1234', '192.0.2.1');
    open();
    gate = undefined;
    const answers = await Promise.all(burst);
    expect(right.leftFor).toBeUndefined();
    expect(right.response.status).toBe(429);
    expect(answers.every((a) => a.leftFor === undefined)).toBe(true);
    expect(count(card)).toBe(LOCK_AFTER);
  });

  it('lets at most address.lockAfter of 200 parallel guesses from one address reach the library’s system', async () => {
    const before = checked.length;
    const form = await startLogin(v, b.issuer);
    const cards = Array.from({ length: 200 }, (_, i) => `2123470000${String(i).padStart(4, '0')}`);
    const answers = await Promise.all(cards.map((card) => post(form, card, '1234', '192.0.2.66')));
    expect(checked.length - before).toBe(ADDRESS_LOCK_AFTER);
    expect(answers.filter((a) => a.response.status === 429)).toHaveLength(200 - ADDRESS_LOCK_AFTER);
    expect(answers.find((a) => a.response.status === 429)?.body).toContain(
      'Too many sign-in attempts from this network',
    );
  });

  it('does not count a blocked card’s right PIN as a wrong guess', async () => {
    for (let i = 0; i < LOCK_AFTER + 2; i++) {
      const answer = await post(await startLogin(v, b.issuer), '21234000000003', '3456', `198.19.0.${i}`);
      expect(answer.response.status).toBe(200);
      expect(answer.body).not.toContain('locked for');
    }
  });

  describe('device cookies', () => {
    const card = '21234000000002';
    const pin = '2345';
    // A restarted browser: the broker's session cookies are gone, what
    // persists (the device cookie) stays.
    const restarted = (jar: CookieJar) => {
      const next = new CookieJar();
      for (const [name, value] of jar.cookies) if (name === 'patronym_device') next.cookies.set(name, value);
      return next;
    };
    const signIn = async (jar: CookieJar, ip: string, thePin = pin, extra: Record<string, string> = {}) =>
      post(await startLogin(v, b.issuer, {}, jar), card, thePin, ip, extra);

    // The owner's browser, as it was left by the last sign-in.
    let ownerBrowser = new CookieJar();

    it('lets the card’s owner in from a browser that signed in before, while the card is locked for everyone else', async () => {
      const owner = new CookieJar();
      expect((await signIn(owner, '192.0.2.10')).leftFor).toMatch(/code=/);
      const header = owner.setCookieHeaders.find((h) => h.startsWith('patronym_device='));
      expect(header).toMatch(/; httponly/i);
      expect(header).toMatch(/; samesite=lax/i);
      const expires = Date.parse(/; expires=([^;]+)/i.exec(header ?? '')?.[1] ?? '');
      expect(Math.round((expires - Date.now()) / 86_400_000)).toBe(180);
      expectAbsent(header ?? '', [card]);
      // Its tokens carry their own HMAC: no Koa signature beside it.
      expect(owner.setCookieHeaders.filter((h) => h.startsWith('patronym_device.sig='))).toEqual([]);
      // and it is listed with the other strictly necessary cookies
      expect(await (await fetch(`${b.issuer}/privacy`)).text()).toContain('patronym_device');

      // on a shared computer: signed in, but no device cookie
      const library = new CookieJar();
      expect((await signIn(library, '192.0.2.11', pin, { shared: 'yes' })).leftFor).toMatch(/code=/);
      expect(library.cookies.has('patronym_device')).toBe(false);

      // someone who knows the card number locks it
      for (let i = 0; i < LOCK_AFTER; i++) {
        expect((await signIn(new CookieJar(), `198.18.0.${i}`, wrongPin(i))).response.status).toBe(200);
      }
      const before = count(card);
      expect((await signIn(new CookieJar(), '192.0.2.12')).response.status).toBe(429);
      expect((await signIn(restarted(library), '192.0.2.11')).response.status).toBe(429);
      expect(count(card)).toBe(before);

      // the owner's browser gets in, even from the stranger's address
      ownerBrowser = restarted(owner);
      expect((await signIn(ownerBrowser, '192.0.2.12')).leftFor).toMatch(/code=/);
      // and the stranger is still locked out
      expect((await signIn(new CookieJar(), '192.0.2.13')).response.status).toBe(429);
      const lines = b.logs.filter((l) => l.includes('"outcome":"throttled"'));
      expect(lines.length).toBeGreaterThan(0);
      expect(JSON.parse(lines.at(-1) ?? '{}')).toMatchObject({ event: 'login', scope: 'card', library: 'springfield' });
      expectAbsent(lines.join('\n'), [card]);
      expectAbsent(JSON.stringify([...ownerBrowser.cookies]), [card]);
    });

    it('gives a device cookie a small budget of its own, and only for its card', async () => {
      // card 1 locked (if the burst above has not done it yet): card 2's cookie does not open it
      for (let i = 0; i < LOCK_AFTER; i++) {
        await post(await startLogin(v, b.issuer), '21234000000001', wrongPin(i), `198.18.1.${i}`);
      }
      const browser = restarted(ownerBrowser);
      const otherCard = await post(await startLogin(v, b.issuer, {}, browser), '21234000000001', '1234', '192.0.2.20');
      expect(otherCard.response.status).toBe(429);
      // five wrong PINs on the cookie, while the card stays locked
      for (let i = 0; i < 5; i++) {
        expect((await signIn(restarted(ownerBrowser), '192.0.2.20', wrongPin(i))).response.status).toBe(200);
      }
      // spent: the cookie is ignored and the card's lock applies, right PIN or not
      const spent = await signIn(restarted(ownerBrowser), '192.0.2.20');
      expect(spent.response.status).toBe(429);
      expect(spent.leftFor).toBeUndefined();
    });
  });
});
