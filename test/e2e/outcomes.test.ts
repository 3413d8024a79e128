// Every way a sign-in can fail: a clear sentence for the patron, no code for
// the vendor, a log line for the sysadmin, nothing crashed.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { follow, formField, startLogin, submitLogin, type Vendor, vendor } from '../support/broker.ts';
import { expectAbsent, expectNoPins } from '../support/leaks.ts';
import { useBroker, withBroker } from '../support/use-broker.ts';

const WRONG = 'The card number or PIN is not right. Check both and try again.';

describe('sign-in outcomes', () => {
  const b = useBroker();
  let v: Vendor;
  beforeAll(async () => {
    v = await vendor(b.issuer, 'demo-vendor', 'demo-vendor-secret');
  });

  async function attempt(card: string, pin: string) {
    const started = await startLogin(v, b.issuer);
    const result = await submitLogin(started, b.issuer, card, pin);
    return { ...result, started };
  }

  const cases: [string, string, string, string][] = [
    ['wrong PIN', '21234000000001', '9999', WRONG],
    ['unknown card', '21234999999999', '1234', WRONG],
    [
      'blocked card',
      '21234000000003',
      '3456',
      'This card cannot be used to sign in at the moment. Please contact your library.',
    ],
    ['expired card', '21234000000004', '4567', 'This card has expired. Please contact your library to renew it.'],
    ['empty PIN', '21234000000001', '', 'Enter your PIN.'],
    ['blank PIN', '21234000000001', '   ', 'Enter your PIN.'],
    ['empty card', '', '1234', 'Enter your library card number.'],
    ['10 kB card', '2'.repeat(10_000), '1234', 'That card number is too long. Check it and try again.'],
  ];

  for (const [name, card, pin, message] of cases) {
    it(`${name}: the form again with a clear message, and no code`, async () => {
      const { response, body, leftFor } = await attempt(card, pin);
      expect(leftFor).toBeUndefined();
      expect(response.status).toBe(200);
      expect(body).toContain(message.replaceAll("'", '&#39;'));
      expect(body).toContain('name="pin"');
      // The PIN is never sent back into the page.
      expect(body).not.toMatch(/name="pin"[^>]*value=/);
    });
  }

  it('a wrong PIN and an unknown card read the same', async () => {
    const wrong = await attempt('21234000000001', '9999');
    const unknown = await attempt('21234999999999', '9999');
    const strip = (html: string) =>
      html
        .replace(/name="csrf" value="[^"]+"/, '')
        .replace(/\/interaction\/[^/"]+/g, '')
        .replace(/value="\d+"/g, '');
    expect(strip(wrong.body)).toBe(strip(unknown.body));
  });

  it('a broken backend is "not answering", never a wrong PIN; the log says which backend and why', async () => {
    const patronFile = (dir: string) => join(dir, 'data', 'demo-patrons.yaml');
    await withBroker(
      ({ dir }) => ({
        config: {
          libraries: [
            {
              id: 'springfield',
              name: 'Springfield Public Library',
              realm: 'springfield',
              authenticators: [{ id: 'broken-file', kind: 'file', path: patronFile(dir) }],
            },
          ],
        },
      }),
      async (broken) => {
        const path = patronFile(broken.dir);
        const bv = await vendor(broken.issuer, 'demo-vendor', 'demo-vendor-secret');
        const started = await startLogin(bv, broken.issuer);
        writeFileSync(path, 'patrons: [ {');
        const { response, body, leftFor } = await submitLogin(started, broken.issuer, '21234000000001', '1234');
        expect(leftFor).toBeUndefined();
        expect(response.status).toBe(503);
        expect(body).toContain('Your library&#39;s system is not answering');
        expect(body).not.toContain('not valid YAML');
        const line = broken.logs.map((l) => JSON.parse(l)).find((l) => l.outcome === 'unavailable');
        expect(line).toMatchObject({ authenticator: 'broken-file', library: 'springfield', level: 'warn' });
        expect(line.cause).toContain('not valid YAML');
      },
    );
  });

  it('a form replayed after the interaction ended gets the expired page and no code', async () => {
    const started = await startLogin(v, b.issuer);
    const first = await submitLogin(started, b.issuer, '21234000000001', '1234');
    expect(first.leftFor).toMatch(/code=/);
    const replay = await submitLogin(started, b.issuer, '21234000000001', '1234');
    expect(replay.leftFor).toBeUndefined();
    expect(replay.response.status).toBe(400);
    expect(replay.body).toContain('This sign-in page has expired');
    expect(replay.body).not.toMatch(/Error:|at .*\.(ts|js):\d+/);
  });

  it('a form with a forged or missing CSRF token is refused', async () => {
    const started = await startLogin(v, b.issuer);
    const action = /action="([^"]+)"/.exec(started.loginPage)?.[1] ?? '';
    for (const csrf of [
      '',
      'x'.repeat(43),
      formField(started.loginPage, 'csrf')?.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')) ?? '',
    ]) {
      const result = await follow(started.jar, b.issuer, new URL(action, b.issuer).href, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ csrf, card: '21234000000001', pin: '1234' }).toString(),
      });
      expect(result.leftFor).toBeUndefined();
      expect(result.response.status).toBe(400);
    }
  });

  it('a body over the form limit is refused with a page, not a crash', async () => {
    const started = await startLogin(v, b.issuer);
    const action = /action="([^"]+)"/.exec(started.loginPage)?.[1] ?? '';
    const result = await follow(started.jar, b.issuer, new URL(action, b.issuer).href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `card=${'1'.repeat(100_000)}&pin=1234`,
    });
    expect(result.response.status).toBe(413);
    expect(result.body).toContain('too large');
    // and the broker still works
    const ok = await attempt('21234000000001', '1234');
    expect(ok.leftFor).toMatch(/code=/);
  });

  it('logs every failure by library, authenticator, outcome and keyed handle, never the card or PIN', async () => {
    await attempt('21234000000001', '9999');
    const lines = b.logs.map((l) => JSON.parse(l));
    const denied = lines.filter((l) => l.event === 'login' && l.outcome === 'denied');
    expect(denied.length).toBeGreaterThan(0);
    for (const line of denied) {
      expect(line).toMatchObject({ library: 'springfield', authenticator: 'springfield-patrons' });
      expect(line.cardHash).toMatch(/^[A-Za-z0-9_-]{12}$/);
    }
    const text = b.logs.join('');
    expectAbsent(text, ['21234000000001', '21234000000003', '21234999999999']);
    expectNoPins(text, ['1234', '9999', '3456']);
  });

  it('cancel sends access_denied back to the vendor', async () => {
    const started = await startLogin(v, b.issuer);
    const abort = /href="(\/interaction\/[^"]+\/abort)"/.exec(started.loginPage)?.[1] ?? '';
    const result = await follow(started.jar, b.issuer, new URL(abort, b.issuer).href);
    const back = new URL(result.leftFor ?? 'http://x/');
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(back.searchParams.get('state')).toBe(started.state);
  });
});
