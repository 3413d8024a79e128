// Privacy by default, feature by feature: release policy, consent, the
// patron's privacy page, walk-in access, forget me.
import * as oidc from 'openid-client';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/schema.ts';
import { deriveAccountId } from '../../src/pseudonym/derive.ts';
import {
  browserFetch,
  CookieJar,
  completeLogin,
  follow,
  formField,
  type RunningBroker,
  type StartedLogin,
  startLogin,
  submitLogin,
  type Vendor,
  vendor,
} from '../support/broker.ts';
import { accountAction, accountPage as accountPageAs } from '../support/privacy.ts';
import { useBroker } from '../support/use-broker.ts';

const PATRON = { card: '21234000000001', pin: '1234', id: 'demo-patron-0001' };
const OTHER = { card: '21234000000002', pin: '2345', id: 'demo-patron-0002' };

function privacyConfig(dir: string, port: number, walkInRanges = ['127.0.0.0/8']): Partial<ConfigInput> {
  return {
    libraries: [
      {
        id: 'springfield',
        name: 'Springfield Public Library',
        realm: 'springfield',
        walkIn: { ranges: walkInRanges },
        authenticators: [{ id: 'springfield-patrons', kind: 'file', path: `${dir}/data/demo-patrons.yaml` }],
      },
    ],
    clients: [
      {
        client_id: 'demo-vendor',
        client_name: 'Demo Vendor',
        client_secret: 'demo-vendor-secret',
        redirect_uris: ['http://localhost:3001/callback'],
        release: ['library', 'affiliation'],
        walkIn: true,
        policy_uri: 'https://vendor.example/privacy',
      },
      {
        client_id: 'demo-vendor-2',
        client_name: 'Second Demo Vendor',
        client_secret: 'demo-vendor-secret',
        redirect_uris: ['http://127.0.0.1:3002/callback'],
      },
    ],
    issuer: `http://127.0.0.1:${port}`,
  };
}

async function consentPage(
  v: Vendor,
  b: RunningBroker,
  scope: string,
  jar = new CookieJar(),
  extra = {},
  patron = PATRON,
) {
  const started = await startLogin(v, b.issuer, { scope, ...extra }, jar);
  const afterLogin = started.loginPage.includes('name="card"')
    ? await submitLogin(started, b.issuer, patron.card, patron.pin)
    : { body: started.loginPage, leftFor: undefined, response: undefined };
  return { started, ...afterLogin };
}

async function decide(started: StartedLogin, page: string, b: RunningBroker, decision: 'allow' | 'deny') {
  const action = /action="([^"]+\/consent)"/.exec(page)?.[1] ?? '';
  return follow(started.jar, b.issuer, new URL(action, b.issuer).href, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf: formField(page, 'csrf') ?? '', decision }).toString(),
  });
}

const accountPage = (b: RunningBroker, card = PATRON.card, pin = PATRON.pin, jar = new CookieJar()) =>
  accountPageAs(b, card, pin, jar);

describe('privacy by default', () => {
  const b = useBroker(({ dir, port }) => ({ config: privacyConfig(dir, port) }));
  let v: Vendor;
  let v2: Vendor;
  beforeAll(async () => {
    v = await vendor(b.issuer, 'demo-vendor', 'demo-vendor-secret');
    v2 = await vendor(b.issuer, 'demo-vendor-2', 'demo-vendor-secret');
  });

  it('asks before releasing anything beyond the pseudonym, in plain words, and honours "allow"', async () => {
    const { started, body, leftFor } = await consentPage(v, b, 'openid library affiliation');
    expect(leftFor).toBeUndefined();
    expect(body).toContain('Share with Demo Vendor?');
    expect(body).toContain('the name of your library: Springfield Public Library');
    expect(body).toContain('that you are a member of a library (springfield.example.org)');
    expect(body).toContain('https://vendor.example/privacy');
    const allowed = await decide(started, body, b, 'allow');
    const tokens = await completeLogin(v, started, allowed.leftFor as string);
    const info = await oidc.fetchUserInfo(v.config, tokens.access_token, tokens.claims()?.sub as string);
    expect(info.library).toEqual({
      id: 'springfield',
      name: 'Springfield Public Library',
      domain: 'springfield.example.org',
    });
    expect(info.eduperson_scoped_affiliation).toEqual(['member@springfield.example.org']);
    expect(info).not.toHaveProperty('eduperson_entitlement');
  });

  it('returns access_denied to the vendor on "don\'t allow"', async () => {
    const { started, body } = await consentPage(v, b, 'openid library', new CookieJar(), {}, OTHER);
    expect(body).toContain('Share with Demo Vendor?');
    const denied = await decide(started, body, b, 'deny');
    const back = new URL(denied.leftFor as string);
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(back.searchParams.get('code')).toBeNull();
  });

  it('remembers "allow" per patron and vendor, across browsers', async () => {
    const { body, leftFor } = await consentPage(v, b, 'openid library affiliation', new CookieJar());
    expect(body).not.toContain('Share with');
    expect(leftFor).toMatch(/code=/);
  });

  it('shows no consent screen to a vendor that only gets the pseudonym, however much it asks for', async () => {
    const claims = JSON.stringify({ id_token: { library: null, eduperson_entitlement: null, email: null } });
    const { started, leftFor } = await consentPage(
      v2,
      b,
      'openid library affiliation entitlement profile email',
      new CookieJar(),
      {
        claims,
      },
    );
    expect(leftFor).toMatch(/code=/);
    const tokens = await completeLogin(v2, started, leftFor as string);
    const info = await oidc.fetchUserInfo(v2.config, tokens.access_token, tokens.claims()?.sub as string);
    expect(Object.keys(info)).toEqual(['sub']);
    expect(Object.keys(tokens.claims() ?? {}).sort()).toEqual(['aud', 'exp', 'iat', 'iss', 'nonce', 'sub']);
  });

  it('never releases beyond the policy, whatever the vendor asks through scopes or the claims parameter', async () => {
    const claims = JSON.stringify({
      id_token: { eduperson_entitlement: null },
      userinfo: { eduperson_entitlement: null },
    });
    const { started, body, leftFor } = await consentPage(v, b, 'openid library entitlement', new CookieJar(), {
      claims,
    });
    // library was allowed before; entitlement is outside the policy: no screen at all
    expect(body).not.toContain('Share with');
    const tokens = await completeLogin(v, started, leftFor as string);
    const info = await oidc.fetchUserInfo(v.config, tokens.access_token, tokens.claims()?.sub as string);
    expect(info).toHaveProperty('library');
    expect(info).not.toHaveProperty('eduperson_entitlement');
    expect(tokens.claims()).not.toHaveProperty('eduperson_entitlement');
  });

  it("lists the patron's vendors on /account with dates and what each learned", async () => {
    const { body } = await accountPage(b);
    expect(body).toContain('Your privacy');
    expect(body).toContain('Demo Vendor');
    expect(body).toContain('Second Demo Vendor');
    expect(body).toContain('the name of your library; that you are a library member');
    expect(body).toContain('Only a pseudonym');
    expect(body).toContain('no website is ever given an old pseudonym of yours again');
    const today = new Date().toISOString().slice(0, 10);
    // Localised for the patron, machine-readable in the markup.
    expect(body).toContain(`<dd><time datetime="${today}">`);
    expect(body).toContain(
      new Intl.DateTimeFormat('en', { dateStyle: 'long', timeZone: 'UTC' }).format(new Date(`${today}T00:00:00Z`)),
    );
    expect(body).not.toContain(PATRON.card);
  });

  it("withdrawing consent ends the vendor's tokens and asks again next time", async () => {
    const first = await consentPage(v, b, 'openid library offline_access', new CookieJar(), { prompt: 'consent' });
    const tokens = await completeLogin(
      v,
      first.started,
      (first.leftFor ?? (await decide(first.started, first.body, b, 'allow')).leftFor) as string,
    );
    const { jar } = await accountPage(b);
    const { confirm, done } = await accountAction(b, jar, 'withdraw', 'demo-vendor');
    expect(confirm.body).toContain('Withdraw permission for Demo Vendor?');
    expect(done.body).toContain('Permission for Demo Vendor withdrawn');
    await expect(oidc.fetchUserInfo(v.config, tokens.access_token, tokens.claims()?.sub as string)).rejects.toThrow();
    if (tokens.refresh_token) await expect(oidc.refreshTokenGrant(v.config, tokens.refresh_token)).rejects.toThrow();
    const again = await consentPage(v, b, 'openid library', new CookieJar());
    expect(again.body).toContain('Share with Demo Vendor?');
  });

  it("resetting a vendor's pseudonym changes its sub, and only its sub", async () => {
    const subOf = async (vv: Vendor) => {
      const s = await consentPage(vv, b, 'openid', new CookieJar());
      return (await completeLogin(vv, s.started, s.leftFor as string)).claims()?.sub;
    };
    const before = [await subOf(v), await subOf(v2)];
    const { jar } = await accountPage(b);
    const { confirm } = await accountAction(b, jar, 'reset', 'demo-vendor');
    expect(confirm.body).toContain('will see you as a new, unrelated person');
    const after = [await subOf(v), await subOf(v2)];
    expect(after[0]).not.toBe(before[0]);
    expect(after[0]).toMatch(/@springfield\.example\.org$/);
    expect(after[1]).toBe(before[1]);
  });

  it('refuses privacy-page actions without the CSRF token', async () => {
    const { jar } = await accountPage(b);
    const forged = await follow(jar, b.issuer, `${b.issuer}/account/forget`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'csrf=forged',
    });
    expect(forged.response.status).toBe(400);
    expect((await follow(jar, b.issuer, `${b.issuer}/account`)).body).toContain('Your privacy');
  });

  it('offers walk-in access inside the library, with a new sub every time and the walk-in affiliation', async () => {
    const subs: string[] = [];
    for (let i = 0; i < 2; i++) {
      const started = await startLogin(v, b.issuer, { scope: 'openid affiliation' });
      expect(started.loginPage).toContain('Continue without signing in');
      const action = /action="([^"]+\/walk-in)"/.exec(started.loginPage)?.[1] ?? '';
      const walkIn = await follow(started.jar, b.issuer, new URL(action, b.issuer).href, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          csrf: formField(started.loginPage.split('class="walk-in"')[1] ?? '', 'csrf') ?? '',
          library: 'springfield',
        }).toString(),
      });
      expect(walkIn.body).toContain('that you are visiting Springfield Public Library');
      const allowed = await decide(started, walkIn.body, b, 'allow');
      const tokens = await completeLogin(v, started, allowed.leftFor as string);
      const info = await oidc.fetchUserInfo(v.config, tokens.access_token, tokens.claims()?.sub as string);
      expect(info.eduperson_scoped_affiliation).toEqual(['library-walk-in@springfield.example.org']);
      subs.push(String(tokens.claims()?.sub));
    }
    expect(subs[0]).not.toBe(subs[1]);
    // never offered to a vendor whose policy does not allow walk-in
    expect((await startLogin(v2, b.issuer)).loginPage).not.toContain('Continue without signing in');
  });

  it('publishes /vendors and /privacy without a login', async () => {
    const vendors = await (await fetch(`${b.issuer}/vendors`)).text();
    expect(vendors).toContain('Demo Vendor');
    expect(vendors).toContain('the name of your library; that you are a library member');
    expect(vendors).toContain('nothing but its pseudonym');
    expect(vendors).not.toContain('<h2>Your privacy page</h2>');
    const privacy = await (await fetch(`${b.issuer}/privacy`)).text();
    expect(privacy).toContain('180 days');
    expect(privacy).toContain('patronym_library');
    // what is kept for good, and why
    expect(privacy).toContain('It has no expiry and is kept even when you ask us to forget you');
  });

  it('"forget me" leaves nothing keyed by the patron in the store', async () => {
    const accountId = deriveAccountId(b.keys.accountKey, 'springfield', OTHER.id);
    const s = await startLogin(v2, b.issuer);
    const signedIn = await submitLogin(s, b.issuer, OTHER.card, OTHER.pin);
    await completeLogin(v2, s, signedIn.leftFor as string);
    // a sign-in cut off right after the card form was accepted (the browser
    // never followed the redirect): its interaction names the patron only
    // inside (result.login.accountId), not at the top, and belongs to no grant
    const abandoned = await startLogin(v, b.issuer);
    const action = /action="([^"]+)"/.exec(abandoned.loginPage)?.[1] as string;
    const accepted = await browserFetch(abandoned.jar, new URL(action, b.issuer).href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        csrf: formField(abandoned.loginPage, 'csrf') ?? '',
        card: OTHER.card,
        pin: OTHER.pin,
      }).toString(),
    });
    expect(accepted.status).toBe(303);
    const { jar, body } = await accountPage(b, OTHER.card, OTHER.pin);
    expect(body).toContain('Second Demo Vendor');
    expect((await b.store.findByAccount(accountId)).length).toBeGreaterThan(2);
    const { done } = await accountAction(b, jar, 'forget');
    expect(done.body).toContain('You are forgotten');
    expect(await b.store.findByAccount(accountId)).toEqual([]);
    const db = new (await import('better-sqlite3')).default(`${b.dir}/data/patronym.sqlite`, { readonly: true });
    // no session, no sign-in in progress, no token: no row at all
    const rows = db.prepare('SELECT model, id FROM records WHERE payload LIKE ?').all(`%${accountId}%`);
    db.close();
    expect(rows).toEqual([]);
    // and nothing anywhere in the SQLite files mentions the accountId
    const { readdirSync, readFileSync } = await import('node:fs');
    const files = readdirSync(`${b.dir}/data`).filter((f) => f.startsWith('patronym.sqlite'));
    for (const f of files) expect(readFileSync(`${b.dir}/data/${f}`).toString('latin1')).not.toContain(accountId);
    // the next sign-in starts from scratch: a new privacy page with nothing listed
    expect((await accountPage(b, OTHER.card, OTHER.pin)).body).toContain('have not signed in to any website');
  });
});
