// Drives the patron's privacy page (/account) the way a browser would:
// sign in with card and PIN, then confirm and post an action.
import { expect } from 'vitest';
import { CookieJar, follow, formField, type RunningBroker, type StartedLogin, submitLogin } from './broker.ts';

export async function accountPage(b: RunningBroker, card: string, pin: string, jar = new CookieJar()) {
  const first = await follow(jar, b.issuer, `${b.issuer}/account`);
  const started: StartedLogin = { jar, loginPage: first.body, loginUrl: first.url, verifier: '', state: '', nonce: '' };
  const done = await submitLogin(started, b.issuer, card, pin);
  return { jar, body: done.body };
}

export async function accountAction(b: RunningBroker, jar: CookieJar, action: string, vendorId?: string) {
  const query = vendorId ? `?action=${action}&vendor=${encodeURIComponent(vendorId)}` : `?action=${action}`;
  const confirm = await follow(jar, b.issuer, `${b.issuer}/account/confirm${query}`);
  expect(confirm.response.status).toBe(200);
  const body = new URLSearchParams({ csrf: formField(confirm.body, 'csrf') ?? '' });
  if (vendorId) body.set('vendor', vendorId);
  const done = await follow(jar, b.issuer, `${b.issuer}/account/${action}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: body.toString(),
  });
  return { confirm, done };
}
