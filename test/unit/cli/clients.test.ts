// `patronym clients …` as a sysadmin runs it.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createBroker } from '../../../src/app.ts';
import { authenticatorKinds } from '../../../src/auth/registry.ts';
import { loadConfigFile } from '../../../src/config/load.ts';
import { createLogger } from '../../../src/log.ts';
import { loadKeys } from '../../../src/security/keys.ts';
import { SqliteStore } from '../../../src/store/sqlite.ts';

const dir = mkdtempSync(join(tmpdir(), 'patronym-clients-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const config = join(dir, 'config.yaml');
writeFileSync(
  config,
  `store: { kind: sqlite, path: ${join(dir, 'store.sqlite')} }
keys: { dir: ${join(dir, 'keys')} }
libraries: [{ id: l, name: L, authenticators: [{ kind: file, path: ${join(dir, 'patrons.yaml')} }] }]
clients: [{ client_id: configured, client_secret: s, redirect_uris: [https://configured.example/cb], release: [library] }]
`,
);
writeFileSync(join(dir, 'patrons.yaml'), 'patrons: []\n');

const cli = (...args: string[]) =>
  new Promise<{ code: number; out: string; err: string }>((resolve) =>
    execFile(
      process.execPath,
      ['src/cli/main.ts', 'clients', ...args],
      { env: { ...process.env, PATRONYM_CONFIG: config } },
      (e, out, err) => resolve({ code: e ? 1 : 0, out, err }),
    ),
  );

// Every case runs the CLI as processes of its own: 1–3 s each here, four
// times that with the suite's other files starting beside it.
describe('patronym clients', { timeout: 120_000 }, () => {
  let id = '';
  it('adds a vendor, printing its secret once, and lists it beside the configured ones', async () => {
    const added = await cli(
      'add',
      '--name',
      'E-books Inc',
      '--redirect-uri',
      'https://ebooks.example/cb',
      '--policy',
      'library,affiliation',
    );
    expect(added.code).toBe(0);
    id = /client_id: (\S+)/.exec(added.out)?.[1] ?? '';
    expect(id).toMatch(/^v-/);
    expect(added.out).toMatch(/client_secret: [A-Za-z0-9_-]{43}\n\(shown once/);
    const list = await cli('list');
    expect(list.out).toContain('configured\tconfigured\t(configuration file)\tlibrary');
    expect(list.out).toContain(`${id}\tE-books Inc\t(registered)\tlibrary,affiliation`);
    const show = await cli('show', id);
    expect(show.out).toContain('"client_name": "E-books Inc"');
    expect(show.out).not.toContain('"client_secret"');
  });

  it('changes a registered vendor’s policy, and refuses to touch a configured one', async () => {
    expect((await cli('policy', id, 'none')).out).toContain(`${id} may receive: its pseudonym only`);
    const refused = await cli('policy', 'configured', 'entitlement');
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('is in the configuration file');
    const bad = await cli('policy', id, 'email');
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('unknown release "email"');
  });

  it('refuses redirect URIs a vendor could not register either', async () => {
    const bad = [
      ['http://ebooks.example/cb', 'must use https (http only on the loopback)'],
      ['https://user:pw@ebooks.example/cb', 'must not carry a user name or password'],
      ['not a url', 'is not a URL'],
    ] as const;
    // At once: each is a process of its own (seconds on a loaded machine).
    const refusals = await Promise.all(bad.map(([uri]) => cli('add', '--name', 'Bad', '--redirect-uri', uri)));
    for (const [i, [uri, why]] of bad.entries()) {
      expect(refusals[i]?.code, uri).toBe(1);
      expect(refusals[i]?.err).toContain(`clients: redirect URI "${uri}" ${why}`);
    }
    const loopback = await cli('add', '--name', 'Dev', '--public', '--redirect-uri', 'http://127.0.0.1:8080/cb');
    expect(loopback.code).toBe(0);
    // added by the sysadmin: approved already
    const devId = /client_id: (\S+)/.exec(loopback.out)?.[1] ?? '';
    expect((await cli('list')).out).toContain(`${devId}\tDev\t(registered)\t`);
  });

  it('lists a vendor that registered itself as waiting, until approved', async () => {
    // What /reg stores for a vendor that registered itself.
    const store = new SqliteStore(join(dir, 'store.sqlite'));
    await store.upsert('Client', 'self-registered', {
      client_id: 'self-registered',
      client_name: 'Self Service Books',
      redirect_uris: ['https://self.example/cb'],
    });
    await store.close();
    expect((await cli('list')).out).toContain(
      'self-registered\tSelf Service Books\t(registered, waiting for approval)\tpseudonym only',
    );
    const approved = await cli('approve', 'self-registered');
    expect(approved.code).toBe(0);
    expect(approved.out).toContain('approved self-registered as "Self Service Books"');
    expect((await cli('list')).out).toContain('self-registered\tSelf Service Books\t(registered)\tpseudonym only');
    expect((await cli('approve', 'configured')).err).toContain('needs no approval');
    expect((await cli('approve', 'nobody')).err).toContain('no registered vendor "nobody"');
  });

  it('adds a vendor with every field the vendor guide asks for, shows them, and updates some', async () => {
    const added = await cli(
      'add',
      '--name',
      'Guide Books',
      '--redirect-uri',
      'https://guide.example/callback',
      '--post-logout-redirect-uri',
      'https://guide.example/',
      'https://guide.example/bye',
      '--backchannel-logout-uri',
      'https://guide.example/backchannel-logout',
      '--backchannel-logout-session-required',
      '--policy-uri',
      'https://guide.example/privacy',
      '--tos-uri',
      'https://guide.example/terms',
      '--logo-uri',
      'https://guide.example/logo.png',
      '--id-token-alg',
      'ES256',
      '--policy',
      'library',
      '--walk-in',
    );
    expect(added.code, added.err).toBe(0);
    const guide = /client_id: (\S+)/.exec(added.out)?.[1] ?? '';
    const shown = JSON.parse((await cli('show', guide)).out);
    expect(shown).toMatchObject({
      client_name: 'Guide Books',
      redirect_uris: ['https://guide.example/callback'],
      post_logout_redirect_uris: ['https://guide.example/', 'https://guide.example/bye'],
      backchannel_logout_uri: 'https://guide.example/backchannel-logout',
      backchannel_logout_session_required: true,
      policy_uri: 'https://guide.example/privacy',
      tos_uri: 'https://guide.example/terms',
      logo_uri: 'https://guide.example/logo.png',
      id_token_signed_response_alg: 'ES256',
      policy: { release: ['library'], walkIn: true },
    });
    expect(shown.client_secret).toBeUndefined();
    // The provider takes the stored metadata as it is: the vendor guide's
    // sign-out (post_logout_redirect_uri) is registered.
    {
      const loaded = loadConfigFile(config, { kinds: authenticatorKinds, env: {}, files: false });
      const store = new SqliteStore(join(dir, 'store.sqlite'));
      const broker = createBroker({
        config: loaded,
        keys: await loadKeys(loaded.keys.dir, loaded.keys, {}),
        store,
        log: createLogger('silent'),
      });
      try {
        const client = await broker.provider.Client.find(guide);
        expect(client?.postLogoutRedirectUris).toEqual(['https://guide.example/', 'https://guide.example/bye']);
        expect(client?.backchannelLogoutUri).toBe('https://guide.example/backchannel-logout');
        expect(client?.policyUri).toBe('https://guide.example/privacy');
      } finally {
        await broker.close();
        await store.close();
      }
    }

    const updated = await cli(
      'update',
      guide,
      '--post-logout-redirect-uri',
      'https://guide.example/signed-out',
      '--policy',
      'none',
      '--no-walk-in',
    );
    expect(updated.code, updated.err).toBe(0);
    expect(updated.out).toContain(`updated ${guide}: post_logout_redirect_uris, policy, walk-in`);
    const after = JSON.parse((await cli('show', guide)).out);
    expect(after.post_logout_redirect_uris).toEqual(['https://guide.example/signed-out']);
    expect(after.policy_uri).toBe('https://guide.example/privacy');
    expect(after.policy).toEqual({ release: [], walkIn: false });
    // The secret survives an update: the vendor's configuration keeps working.
    const store = new SqliteStore(join(dir, 'store.sqlite'));
    expect((await store.find('Client', guide))?.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await store.close();

    expect((await cli('update', guide, '--policy-uri', 'http://guide.example/p')).err).toContain(
      'clients: policy URI "http://guide.example/p" must use https',
    );
    expect((await cli('update', guide)).err).toContain('nothing to change');
    expect((await cli('update', 'configured', '--name', 'X')).err).toContain('is in the configuration file');
  });

  it('shows everything about a configured vendor but its secret', async () => {
    const shown = await cli('show', 'configured');
    expect(shown.code, shown.err).toBe(0);
    const json = JSON.parse(shown.out);
    expect(json).toMatchObject({
      client_id: 'configured',
      redirect_uris: ['https://configured.example/cb'],
      token_endpoint_auth_method: 'client_secret_basic',
      client_secret: '(set; not shown)',
      source: 'configuration file',
      policy: { release: ['library'], walkIn: false },
    });
    expect(shown.out).not.toMatch(/"s"/);
  });

  it('issues initial access tokens for one registration, or for --uses of them', async () => {
    const one = await cli('token', '--expires', '1h');
    expect(one.out).toContain('for one registration at');
    const three = await cli('token', '--expires', '1h', '--uses', '3');
    expect(three.out).toContain('for 3 registrations at');
    const store = new SqliteStore(join(dir, 'store.sqlite'));
    const uses = (await store.list('InitialAccessToken')).map((t) => t.payload.uses).sort();
    await store.close();
    expect(uses).toEqual([1, 3]);
    expect((await cli('token', '--uses', '0')).err).toContain('--uses wants a whole number from 1');
  });

  it('issues an initial access token and removes a vendor', async () => {
    const token = await cli('token', '--expires', '1h');
    expect(token.code).toBe(0);
    expect(token.out).toMatch(/initial access token \(valid 1h.*\n[A-Za-z0-9_-]{40,}\n/);
    expect((await cli('remove', id)).out).toContain(`removed ${id}`);
    expect((await cli('show', id)).err).toContain(`no vendor "${id}"`);
  });
});
