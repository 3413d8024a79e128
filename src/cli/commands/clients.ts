// `patronym clients add|list|show|approve|remove|policy|token`: vendors for
// sysadmins who do not keep them in the configuration file. Registered
// vendors (here, or themselves through /reg with an initial access token)
// live in the store; their release policy is set here and only here, and
// one that registered itself waits for `approve` before it signs anyone in.
import { randomBytes } from 'node:crypto';
import { PatronymError } from '../../errors.ts';
import { RELEASABLE, type Releasable } from '../../policy/release.ts';
import { redirectUriProblem } from '../../policy/vendor-metadata.ts';
import { VendorPolicies } from '../../policy/vendors.ts';
import { storedId } from '../../store/oidc-adapter.ts';
import { openStore } from '../../store/registry.ts';
import type { Store } from '../../store/store.ts';
import { loadConfigAndKeys } from '../context.ts';
import { parseDuration } from './keys.ts';

async function withStore<T>(
  fn: (store: Store, policies: VendorPolicies, configured: Map<string, string>) => Promise<T>,
): Promise<T> {
  const { config } = await loadConfigAndKeys();
  const store = openStore(config.store);
  try {
    const configured = new Map(config.clients.map((c) => [c.client_id, c.client_name ?? c.client_id]));
    return await fn(store, new VendorPolicies(config.clients, store), configured);
  } finally {
    await store.close();
  }
}

const out = (line: string) => process.stdout.write(`${line}\n`);

export function parsePolicy(text: string): Releasable[] {
  const items = text === 'none' || text === '' ? [] : text.split(',').map((s) => s.trim());
  const unknown = items.filter((i) => !RELEASABLE.includes(i as Releasable));
  if (unknown.length > 0) {
    throw new PatronymError(
      'usage',
      `clients: unknown release "${unknown[0]}"; expected ${RELEASABLE.join(', ')} or none`,
    );
  }
  return items as Releasable[];
}

export async function listClients(): Promise<void> {
  await withStore(async (store, policies, configured) => {
    for (const [id, name] of configured)
      out(`${id}\t${name}\t(configuration file)\t${(await policies.get(id)).release.join(',') || 'pseudonym only'}`);
    for (const { id, payload } of await store.list('Client')) {
      const source = (await policies.isPending(id)) ? 'registered, waiting for approval' : 'registered';
      out(
        `${id}\t${String(payload.client_name ?? id)}\t(${source})\t${(await policies.get(id)).release.join(',') || 'pseudonym only'}`,
      );
    }
  });
}

export async function showClient(id: string): Promise<void> {
  await withStore(async (store, policies, configured) => {
    const registered = await store.find('Client', id);
    if (!registered && !configured.has(id)) throw new PatronymError('client_unknown', `clients: no vendor "${id}"`);
    const {
      client_secret: _secret,
      registration_access_token: _rat,
      ...metadata
    } = registered ?? { client_id: id, source: 'configuration file' };
    out(JSON.stringify({ ...metadata, policy: await policies.get(id) }, null, 2));
  });
}

export async function addClient(options: {
  name: string;
  redirectUri: string[];
  public?: boolean;
  policy?: string;
  walkIn?: boolean;
  logoutUri?: string;
}): Promise<void> {
  const release = parsePolicy(options.policy ?? 'none');
  // The rules a self-registering vendor meets (https, http only on the
  // loopback, no user name or password), checked before anything is stored.
  for (const uri of options.redirectUri) {
    const problem = redirectUriProblem(uri);
    if (problem) throw new PatronymError('usage', `clients: redirect URI ${problem}`);
  }
  await withStore(async (store, policies) => {
    const clientId = `v-${randomBytes(9).toString('base64url')}`;
    const secret = options.public ? undefined : randomBytes(32).toString('base64url');
    await store.upsert('Client', clientId, {
      client_id: clientId,
      client_name: options.name,
      redirect_uris: options.redirectUri,
      response_types: ['code'],
      grant_types: ['authorization_code', 'refresh_token'],
      subject_type: 'pairwise',
      token_endpoint_auth_method: secret ? 'client_secret_basic' : 'none',
      ...(secret ? { client_secret: secret } : {}),
      ...(options.logoutUri ? { backchannel_logout_uri: options.logoutUri } : {}),
      client_id_issued_at: Math.floor(Date.now() / 1000),
    });
    await policies.set(clientId, { release, walkIn: options.walkIn === true });
    // The sysadmin adding it is the approval.
    await policies.approve(clientId, options.name);
    out(`client_id: ${clientId}`);
    if (secret) out(`client_secret: ${secret}\n(shown once: give it to the vendor now; it cannot be shown again)`);
  });
}

export async function removeClient(id: string): Promise<void> {
  await withStore(async (store, policies, configured) => {
    if (configured.has(id))
      throw new PatronymError('usage', `clients: "${id}" is in the configuration file; remove it there`);
    if (!(await store.find('Client', id)))
      throw new PatronymError('client_unknown', `clients: no registered vendor "${id}"`);
    await store.destroy('Client', id);
    await policies.remove(id);
    out(`removed ${id}; its tokens stop working now`);
  });
}

// Lets a vendor that registered itself sign patrons in and appear on
// /vendors, under the name it has now.
export async function approveClient(id: string): Promise<void> {
  await withStore(async (store, policies, configured) => {
    if (configured.has(id))
      throw new PatronymError('usage', `clients: "${id}" is in the configuration file; it needs no approval`);
    const registered = await store.find('Client', id);
    if (!registered) throw new PatronymError('client_unknown', `clients: no registered vendor "${id}"`);
    const name = typeof registered.client_name === 'string' ? registered.client_name : null;
    await policies.approve(id, name);
    out(`approved ${id} as "${name ?? id}"; it may sign patrons in now (a new name needs a new approval)`);
  });
}

export async function setPolicy(id: string, releases: string, options: { walkIn?: boolean }): Promise<void> {
  const release = parsePolicy(releases);
  await withStore(async (store, policies, configured) => {
    if (configured.has(id))
      throw new PatronymError('usage', `clients: "${id}" is in the configuration file; set its release there`);
    if (!(await store.find('Client', id)))
      throw new PatronymError('client_unknown', `clients: no registered vendor "${id}"`);
    await policies.set(id, { release, walkIn: options.walkIn === true });
    out(
      `${id} may receive: ${release.join(', ') || 'its pseudonym only'}${options.walkIn ? ' (walk-in allowed)' : ''}`,
    );
  });
}

// An initial access token lets a vendor register itself at /reg, once
// (or `--uses` times: the count is kept with the token and spent atomically).
export async function issueToken(options: { expires: string; uses?: string }): Promise<void> {
  const uses = Number(options.uses ?? '1');
  if (!Number.isSafeInteger(uses) || uses < 1)
    throw new PatronymError('usage', `clients: --uses wants a whole number from 1: "${options.uses}"`);
  const { config, keys } = await loadConfigAndKeys();
  if (!config.registration.enabled)
    throw new PatronymError('usage', 'clients: registration.enabled is false in the configuration');
  // The provider makes the token exactly as /reg expects it; loaded only here.
  const { createBroker } = await import('../../app.ts');
  const { createLogger } = await import('../../log.ts');
  const store = openStore(config.store);
  const broker = createBroker({ config, keys, store, log: createLogger('silent') });
  try {
    const expiresIn = parseDuration(options.expires);
    const value = await new broker.provider.InitialAccessToken({ expiresIn }).save();
    await store.update(
      'InitialAccessToken',
      storedId('InitialAccessToken', value),
      (token) => ({ ...token, uses }),
      expiresIn,
    );
    const count = uses === 1 ? 'one registration' : `${uses} registrations`;
    out(`initial access token (valid ${options.expires}, for ${count} at ${config.issuer}/reg):\n${value}`);
  } finally {
    await broker.close();
    await store.close();
  }
}
