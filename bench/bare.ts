// The reference the bench compares Patronym with: plain oidc-provider, its
// own in-memory adapter, the same kind of keys, and a trivial login page
// that checks card + PIN against the same LDAP server the way Patronym's
// authenticator does (a service connection searches, a pooled connection
// binds as the patron). No store, throttle, policy, release log, consent,
// pseudonyms, logging, metrics or security headers: what is left is the
// library's own cost plus the backend's.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import ldap from 'ldapjs';
import Provider, { type Configuration } from 'oidc-provider';

export interface BareOptions {
  port: number;
  clients: Configuration['clients'];
  ldap: { url: string; bindDn: string; bindPassword: string; baseDn: string; attribute: string };
}

// ldapjs's callbacks as promises (only what is used here).
type Client = ldap.Client;
const bind = (c: Client, dn: string, password: string) =>
  new Promise<boolean>((resolve) => c.bind(dn, password, (error) => resolve(!error)));
const search = (c: Client, base: string, filter: string) =>
  new Promise<string | undefined>((resolve, reject) => {
    c.search(base, { scope: 'sub', filter, attributes: ['entryUUID'] }, (error, res) => {
      if (error) return reject(error);
      let dn: string | undefined;
      res.on('searchEntry', (entry) => {
        dn = entry.dn.toString();
      });
      res.on('error', reject);
      res.on('end', () => resolve(dn));
    });
  });

const escapeFilter = (value: string) =>
  value.replace(/[\\*()\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

const readBody = async (req: IncomingMessage): Promise<URLSearchParams> => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
};

export async function startBare(options: BareOptions): Promise<Server> {
  const issuer = `http://127.0.0.1:${options.port}`;
  const rsa = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const service = ldap.createClient({ url: options.ldap.url });
  service.on('error', () => {});
  if (!(await bind(service, options.ldap.bindDn, options.ldap.bindPassword))) throw new Error('bare: service bind');
  const idle: Client[] = [];
  const withBinder = async <T>(use: (c: Client) => Promise<T>): Promise<T> => {
    const c =
      idle.pop() ??
      (() => {
        const fresh = ldap.createClient({ url: options.ldap.url });
        fresh.on('error', () => {});
        return fresh;
      })();
    try {
      return await use(c);
    } finally {
      idle.push(c);
    }
  };

  const provider = new Provider(issuer, {
    clients: options.clients,
    jwks: { keys: [{ ...(await exportJWK(rsa.privateKey)), kid: 'bare', alg: 'RS256', use: 'sig' }] },
    cookies: { keys: ['bare-bench-cookie-key-0123456789abcdef'] },
    findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    features: { devInteractions: { enabled: false } },
    // Patronym's lifetimes (demo defaults), which also quiets the library's
    // notices about its own defaults.
    ttl: {
      Interaction: 900,
      Session: 900,
      Grant: 14 * 86_400,
      AuthorizationCode: 60,
      AccessToken: 3600,
      IdToken: 3600,
    },
  });

  const interaction = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const details = await provider.interactionDetails(req, res);
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(
        `<!doctype html><form method="post" action="/interaction/${details.uid}">` +
          '<input type="hidden" name="csrf" value="-"><input name="card" autocomplete="username">' +
          '<input name="pin" type="password" autocomplete="current-password"><button>Sign in</button></form>',
      );
      return;
    }
    const form = await readBody(req);
    const card = form.get('card') ?? '';
    const dn = await search(service, options.ldap.baseDn, `(${options.ldap.attribute}=${escapeFilter(card)})`);
    const ok = dn !== undefined && (await withBinder((c) => bind(c, dn, form.get('pin') ?? '')));
    if (!ok) {
      res.writeHead(401).end('wrong card or PIN');
      return;
    }
    // Login and consent in one step, as Patronym does for a vendor that
    // gets nothing beyond the pseudonym.
    const grant = new provider.Grant({ accountId: card, clientId: String(details.params.client_id) });
    grant.addOIDCScope(String(details.params.scope));
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { login: { accountId: card }, consent: { grantId } });
  };

  const callback = provider.callback();
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/interaction/')) {
      interaction(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500);
        res.end(String(error));
      });
      return;
    }
    callback(req, res);
  });
  server.on('close', () => {
    service.unbind();
    for (const c of idle) c.unbind();
  });
  await new Promise<void>((resolve) => server.listen(options.port, '127.0.0.1', resolve));
  return server;
}
