// `patronym clients add|update|list|show|approve|remove|policy|token`: vendors for
// sysadmins who do not keep them in the configuration file. Registered
// vendors (here, or themselves through /reg with an initial access token)
// live in the store; their release policy is set here and only here, and
// one that registered itself waits for `approve` before it signs anyone in.
import { randomBytes } from 'node:crypto';
import type { Config } from '../../config/config.ts';
import { PatronymError } from '../../errors.ts';
import { RELEASABLE, type Releasable } from '../../policy/release.ts';
import { VendorPolicies } from '../../policy/vendors.ts';
import { storedId } from '../../store/oidc-adapter.ts';
import { openStore } from '../../store/registry.ts';
import type { Store } from '../../store/store.ts';
import { loadConfigAndKeys } from '../context.ts';
import { type ClientMetadataOptions, clientMetadata } from './client-metadata.ts';
import { parseDuration } from './keys.ts';

type ConfiguredClient = Config['clients'][number];

async function withStore<T>(
  fn: (
    store: Store,
    policies: VendorPolicies,
    configured: Map<string, string>,
    clients: ReadonlyMap<string, ConfiguredClient>,
  ) => Promise<T>,
): Promise<T> {
  const { config } = await loadConfigAndKeys();
  const store = openStore(config.store, { shared: true });
  try {
    const configured = new Map(config.clients.map((c) => [c.client_id, c.client_name ?? c.client_id]));
    const clients = new Map(config.clients.map((c) => [c.client_id, c]));
    return await fn(store, new VendorPolicies(config.clients, store), configured, clients);
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

// Everything known about a vendor, configured or registered, but never a
// secret (a configured one's is only said to be set, and where it comes from).
export async function showClient(id: string): Promise<void> {
  await withStore(async (store, policies, _configured, clients) => {
    const registered = await store.find('Client', id);
    const fromFile = clients.get(id);
    if (!registered && !fromFile) throw new PatronymError('client_unknown', `clients: no vendor "${id}"`);
    let shown: Record<string, unknown>;
    if (registered) {
      const { client_secret: _secret, registration_access_token: _rat, ...metadata } = registered;
      shown = { ...metadata, source: 'registered' };
    } else {
      const { client_secret, ...metadata } = fromFile as ConfiguredClient;
      shown = {
        ...metadata,
        ...(client_secret !== undefined ? { client_secret: '(set; not shown)' } : {}),
        source: 'configuration file',
      };
    }
    out(JSON.stringify({ ...shown, policy: await policies.get(id) }, null, 2));
  });
}

export interface AddOptions extends ClientMetadataOptions {
  name: string;
  redirectUri: string[];
  public?: boolean;
  policy?: string;
  walkIn?: boolean;
}

export async function addClient(options: AddOptions): Promise<void> {
  const release = parsePolicy(options.policy ?? 'none');
  // Checked before anything is stored, by the rules /reg applies.
  const metadata = clientMetadata(options);
  await withStore(async (store, policies) => {
    const clientId = `v-${randomBytes(9).toString('base64url')}`;
    const secret = options.public ? undefined : randomBytes(32).toString('base64url');
    await store.upsert('Client', clientId, {
      client_id: clientId,
      ...metadata,
      response_types: ['code'],
      grant_types: ['authorization_code', 'refresh_token'],
      subject_type: 'pairwise',
      token_endpoint_auth_method: secret ? 'client_secret_basic' : 'none',
      ...(secret ? { client_secret: secret } : {}),
      client_id_issued_at: Math.floor(Date.now() / 1000),
    });
    await policies.set(clientId, { release, walkIn: options.walkIn === true });
    // The sysadmin adding it is the approval.
    await policies.approve(clientId, options.name);
    out(`client_id: ${clientId}`);
    if (secret) out(`client_secret: ${secret}\n(shown once: give it to the vendor now; it cannot be shown again)`);
  });
}

export interface UpdateOptions extends ClientMetadataOptions {
  policy?: string;
  walkIn?: boolean;
}

// Changes what is given, keeps the rest (and the secret). A new name is
// approved by the sysadmin giving it (a vendor renaming itself at /reg
// waits for `approve`).
export async function updateClient(id: string, options: UpdateOptions): Promise<void> {
  const changes = clientMetadata(options);
  const release = options.policy === undefined ? undefined : parsePolicy(options.policy);
  if (Object.keys(changes).length === 0 && release === undefined && options.walkIn === undefined)
    throw new PatronymError('usage', 'clients: update: nothing to change; see `patronym clients update --help`');
  await withStore(async (store, policies, configured) => {
    if (configured.has(id))
      throw new PatronymError('usage', `clients: "${id}" is in the configuration file; change it there`);
    const registered = await store.find('Client', id);
    if (!registered) throw new PatronymError('client_unknown', `clients: no registered vendor "${id}"`);
    const next = { ...registered, ...changes };
    const uris = (next.redirect_uris as string[]) ?? [];
    if (new Set(uris.map((u) => new URL(u).hostname)).size > 1 && !next.sector_identifier_uri)
      throw new PatronymError(
        'usage',
        'clients: the redirect URIs span several hosts; add --sector-identifier-uri listing them (OIDC Core 8.1)',
      );
    await store.upsert('Client', id, next);
    if (release !== undefined || options.walkIn !== undefined) {
      const current = await policies.get(id);
      await policies.set(id, { release: release ?? current.release, walkIn: options.walkIn ?? current.walkIn });
    }
    if (changes.client_name !== undefined) await policies.approve(id, String(changes.client_name));
    out(
      `updated ${id}: ${[...Object.keys(changes), ...(release ? ['policy'] : []), ...(options.walkIn !== undefined ? ['walk-in'] : [])].join(', ')}`,
    );
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
  const store = openStore(config.store, { shared: true });
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
