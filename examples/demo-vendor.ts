// A tiny vendor site for the demo: a "Sign in with your library" button, the
// standard code flow with PKCE via openid-client, and a page showing exactly
// what the vendor received. `npm run demo:vendor` (port 3001);
// `DEMO_CLIENT=demo-vendor-2 npm run demo:vendor` (port 3002) shows that a
// second vendor gets an unrelated pseudonym for the same patron;
// `DEMO_CLIENT=demo-app` (port 3003) signs in as the public client (no
// secret, PKCE only), as a single-page or mobile app would.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import * as oidc from 'openid-client';

const ISSUER = process.env.ISSUER ?? 'http://localhost:3000';
const CLIENTS: Record<string, { name: string; redirect: string; secret?: string }> = {
  'demo-vendor': { name: 'Demo Vendor', redirect: 'http://localhost:3001/callback', secret: 'demo-vendor-secret' },
  'demo-vendor-2': {
    name: 'Second Demo Vendor',
    redirect: 'http://127.0.0.1:3002/callback',
    secret: 'demo-vendor-secret',
  },
  'demo-app': { name: 'Demo App', redirect: 'http://127.0.0.1:3003/callback' },
};
const clientId = process.env.DEMO_CLIENT ?? 'demo-vendor';
const found = CLIENTS[clientId];
// One line saying what to do, never a stack: this is the first thing a
// visitor trying the demo runs.
const fail = (message: string): never => {
  process.stderr.write(`demo vendor: ${message}\n`);
  process.exit(1);
};
const client = found ?? fail(`unknown DEMO_CLIENT "${clientId}"; expected one of ${Object.keys(CLIENTS).join(', ')}`);
const redirect = new URL(client.redirect);

const config = await oidc
  .discovery(new URL(ISSUER), clientId, client.secret, client.secret === undefined ? oidc.None() : undefined, {
    execute: [oidc.allowInsecureRequests],
  })
  .catch((error: unknown) => {
    // openid-client wraps fetch's error, which wraps the socket's: the code is at the bottom.
    let cause: unknown = error;
    while ((cause as { cause?: unknown }).cause !== undefined && !(cause as { code?: string }).code?.startsWith('E'))
      cause = (cause as { cause: unknown }).cause;
    const code = (cause as { code?: string }).code ?? (error as Error).message;
    return fail(
      `the broker at ${ISSUER} is not answering (${code}): start it first with \`npm start\` (or set ISSUER to where it runs)`,
    );
  });
const pending = new Map<string, { verifier: string; state: string; nonce: string }>();

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (body: string) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${client.name}</title>
<style>body{font:1.05rem/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}
a.button{display:inline-block;padding:.7rem 1.2rem;background:#1d4f91;color:#fff;border-radius:.3rem;text-decoration:none;font-weight:600}
pre{background:#f4f4f2;padding:1rem;overflow:auto}</style></head><body><h1>${client.name}</h1>${body}</body></html>`;

createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', redirect.origin);
  try {
    if (url.pathname === '/login') {
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      const id = randomBytes(16).toString('base64url');
      pending.set(id, { verifier, state, nonce });
      const target = oidc.buildAuthorizationUrl(config, {
        redirect_uri: client.redirect,
        scope: 'openid',
        state,
        nonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      });
      res.writeHead(302, { location: target.href, 'set-cookie': `demo_login=${id}; HttpOnly; SameSite=Lax; Path=/` });
      res.end();
      return;
    }
    if (url.pathname === redirect.pathname) {
      const id = /demo_login=([^;]+)/.exec(req.headers.cookie ?? '')?.[1] ?? '';
      const login = pending.get(id);
      pending.delete(id);
      if (!login) throw new Error('no sign-in in progress; start again');
      if (url.searchParams.get('error')) {
        res.end(
          page(
            `<p>The library sign-in ended with <code>${esc(url.searchParams.get('error') ?? '')}</code>.</p><p><a href="/">Back</a></p>`,
          ),
        );
        return;
      }
      const tokens = await oidc.authorizationCodeGrant(config, url, {
        pkceCodeVerifier: login.verifier,
        expectedState: login.state,
        expectedNonce: login.nonce,
      });
      const claims: Partial<oidc.IDToken> = tokens.claims() ?? {};
      const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, String(claims.sub));
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(
        page(`<p>Signed in. This is everything ${client.name} received about you:</p>
<h2>ID token claims</h2><pre>${esc(JSON.stringify(claims, null, 2))}</pre>
<h2>UserInfo</h2><pre>${esc(JSON.stringify(userinfo, null, 2))}</pre>
<p>No name, no email, no card number: <code>sub</code> is a pseudonym only this vendor sees.</p>
<p><a href="/">Back</a></p>`),
      );
      return;
    }
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(
      page(
        '<p>Read our e-books with your library card.</p><p><a class="button" href="/login">Sign in with your library</a></p>',
      ),
    );
  } catch (error) {
    res.statusCode = 400;
    res.end(page(`<p>Sign-in failed: ${esc((error as Error).message)}</p><p><a href="/">Back</a></p>`));
  }
})
  .listen(Number(redirect.port), redirect.hostname, () => {
    process.stdout.write(`demo vendor "${clientId}" on ${redirect.origin} (broker ${ISSUER})\n`);
  })
  .on('error', (error: NodeJS.ErrnoException) =>
    fail(
      error.code === 'EADDRINUSE'
        ? `port ${redirect.port} is already in use (EADDRINUSE): is this demo vendor already running?`
        : `cannot listen on ${redirect.host}: ${error.code ?? error.message}`,
    ),
  );
