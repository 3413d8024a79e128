// Signed cookies' signatures (security/cookie-signer.ts): keygrip's, so
// cookies signed before still verify, under every listed key (rotation),
// and nothing but the exact signature passes.
import { createHmac } from 'node:crypto';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { describe, expect, it } from 'vitest';
import { CookieSigner } from '../../../src/security/cookie-signer.ts';

// keygrip's signature, as its source makes it (HMAC-SHA1, base64 made
// URL-safe, padding dropped).
const keygrip = (data: string, key: string) =>
  createHmac('sha1', key)
    .update(data)
    .digest('base64')
    .replace(/\/|\+|=/g, (x) => ({ '/': '_', '+': '-', '=': '' })[x] as string);

const KEYS = ['current-cookie-key-0123456789abcdef', 'older-cookie-key-0123456789abcdef'];

describe('cookie signatures', () => {
  it('are keygrip’s, made with the first key', () => {
    const signer = new CookieSigner(KEYS);
    for (const data of ['_session=abc', 'patronym_lang=fr', 'x=', `_interaction=${'é'.repeat(40)}`]) {
      expect(signer.sign(data)).toBe(keygrip(data, KEYS[0] as string));
    }
  });

  it('verify under any listed key, and say which', () => {
    const signer = new CookieSigner(KEYS);
    expect(signer.index('a=1', keygrip('a=1', KEYS[0] as string))).toBe(0);
    expect(signer.index('a=1', keygrip('a=1', KEYS[1] as string))).toBe(1);
    expect(signer.verify('a=1', keygrip('a=1', KEYS[1] as string))).toBe(true);
    expect(signer.index('a=1', keygrip('a=1', 'a key no longer listed'))).toBe(-1);
  });

  it('refuse anything but the exact signature', () => {
    const signer = new CookieSigner(KEYS);
    const good = signer.sign('a=1');
    expect(signer.index('a=2', good)).toBe(-1);
    // The same bytes written another way (padding, standard base64) are no
    // signature keygrip would have made.
    expect(signer.index('a=1', `${good}=`)).toBe(-1);
    expect(signer.index('a=1', Buffer.from(good, 'base64url').toString('base64'))).toBe(-1);
    expect(signer.index('a=1', good.slice(0, -1))).toBe(-1);
    expect(signer.index('a=1', `${good.slice(0, -1)}${good.endsWith('A') ? 'B' : 'A'}`)).toBe(-1);
    expect(signer.index('a=1', '')).toBe(-1);
    expect(signer.index('a=1', undefined as unknown as string)).toBe(-1);
    expect(() => new CookieSigner([])).toThrow(/no keys/);
  });

  it('sign and check Koa’s signed cookies, one signed under an older key included', async () => {
    const app = new Koa();
    app.keys = new CookieSigner(KEYS) as unknown as string[];
    app.use((ctx) => {
      if (ctx.path === '/set') ctx.cookies.set('c', 'value', { signed: true });
      else ctx.body = JSON.stringify(ctx.cookies.get('c', { signed: true }) ?? null);
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as AddressInfo;
    const get = (path: string, cookie?: string) =>
      new Promise<{ body: string; setCookie: string[] }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path, headers: cookie ? { cookie } : {} }, (res) => {
          let body = '';
          res.on('data', (chunk) => {
            body += chunk;
          });
          res.on('end', () => resolve({ body, setCookie: res.headers['set-cookie'] ?? [] }));
        });
        req.on('error', reject);
        req.end();
      });
    try {
      const set = await get('/set');
      const jar = set.setCookie.map((c) => c.split(';')[0]).join('; ');
      expect(jar).toBe(`c=value; c.sig=${keygrip('c=value', KEYS[0] as string)}`);
      expect((await get('/read', jar)).body).toBe('"value"');
      expect((await get('/read', `c=value; c.sig=${keygrip('c=value', KEYS[1] as string)}`)).body).toBe('"value"');
      expect((await get('/read', `c=forged; c.sig=${keygrip('c=value', KEYS[0] as string)}`)).body).toBe('null');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
