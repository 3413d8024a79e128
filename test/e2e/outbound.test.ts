// A registered vendor chooses the URLs the broker fetches (sector identifier
// document, JWK set). Pointed at the broker's own host, by address or by a
// name that resolves there, they must open no connection at all: the check
// is made on the address dialled, after DNS, not on the URL.
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTls } from '../support/tls.ts';
import { useBroker } from '../support/use-broker.ts';

describe('outbound calls to special-use addresses', () => {
  let target: Server;
  let port = 0;
  let connections = 0;

  beforeAll(async () => {
    const pki = mkdtempSync(join(tmpdir(), 'patronym-pki-'));
    makeTls(pki);
    target = createHttpsServer(
      { key: readFileSync(join(pki, 'server.key')), cert: readFileSync(join(pki, 'server.pem')) },
      (req, res) => {
        res.setHeader('content-type', 'application/json');
        res.end(req.url?.includes('jwks') ? '{"keys":[]}' : '["https://a.vendor.example/cb"]');
      },
    );
    // Counted at TCP accept: a connection that is opened and closed at once counts too.
    target.on('connection', () => {
      connections++;
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    port = (target.address() as AddressInfo).port;
  });
  const b = useBroker();
  afterAll(async () => {
    target.close();
  });

  const register = async (metadata: Record<string, unknown>) => {
    const token = await new b.broker.provider.InitialAccessToken({ expiresIn: 600 }).save();
    return fetch(`${b.issuer}/reg`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(metadata),
    });
  };
  const refusals = () => b.logs.filter((l) => l.includes('"event":"outbound_refused"'));

  for (const host of ['127.0.0.1', 'localhost', '[::ffff:127.0.0.1]']) {
    it(`fetches no sector_identifier_uri on ${host}; the registration fails and the log says why`, async () => {
      const before = { connections, refusals: refusals().length };
      const response = await register({
        redirect_uris: ['https://a.vendor.example/cb', 'https://b.vendor.example/cb'],
        sector_identifier_uri: `https://${host}:${port}/sector.json`,
      });
      expect(response.status).toBe(400);
      const error = (await response.json()) as { error: string; error_description: string };
      expect(error.error).toBe('invalid_client_metadata');
      expect(error.error_description).toContain('sector_identifier_uri');
      expect(connections).toBe(before.connections);
      const lines = refusals().slice(before.refusals);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /refused to connect to \\".*\\" \((127\.0\.0\.1|::1|::ffff:7f00:1), a loopback address\)/,
      );
      // and the registration failure is logged with that cause
      const failure = b.logs.filter((l) => l.includes('"event":"registration_create.error"')).at(-1);
      expect(failure).toContain('a loopback address');
    });
  }

  it('fetches no jwks_uri on the loopback when a private_key_jwt vendor authenticates', async () => {
    const registered = await register({
      redirect_uris: ['https://jwt.vendor.example/cb'],
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'ES256',
      jwks_uri: `https://localhost:${port}/jwks`,
    });
    expect(registered.status).toBe(201);
    const { client_id: clientId } = (await registered.json()) as { client_id: string };
    const { privateKey } = await generateKeyPair('ES256');
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(b.issuer)
      .setJti(crypto.randomUUID())
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(privateKey);
    const before = connections;
    const response = await fetch(`${b.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: 'nothing',
        redirect_uri: 'https://jwt.vendor.example/cb',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion,
      }).toString(),
    });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: string }).error).toBe('invalid_client');
    expect(connections).toBe(before);
    expect(refusals().at(-1)).toContain('refused to connect to \\"localhost\\"');
  });
});
