// YAML file + environment → a checked, resolved Config. Every problem is
// collected and reported at once, each with its dotted path, what was found
// and what was expected, so a sysadmin fixes a file in one pass.
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { PatronymError } from '../errors.ts';
import { checkClients, checkLibraries } from './checks.ts';
import { dotted, zodProblems } from './problems.ts';
import { readYaml, readYamlOffThread } from './read-yaml.ts';
import {
  type AuthenticatorEntry,
  type ClientConfig,
  configSchema,
  type LibraryConfig,
  type ParsedConfig,
  type SecretRef,
} from './schema.ts';

export interface Realm {
  id: string;
  scope: string;
  // Display name of the system or consortium, for the chooser.
  name?: string | undefined;
}

export interface ResolvedAuthenticator {
  id: string;
  kind: string;
  // The kind's own options, parsed by its schema.
  options: Record<string, unknown>;
}

export interface Library extends Omit<LibraryConfig, 'authenticators' | 'realm' | 'scope' | 'retention'> {
  realm: string;
  // Its own retention, or the broker's.
  retention: { releaseLog: number; consent: number };
  // Affiliation scope: the library's own, else its realm's.
  scope: string;
  // Shared authenticators appear as the very same object in every library.
  authenticators: ResolvedAuthenticator[];
}

export interface Client extends Omit<ClientConfig, 'client_secret'> {
  client_secret?: string;
}

type ParsedStore = ParsedConfig['store'];
type PostgresStoreInput = Extract<ParsedStore, { kind: 'postgres' }>;
// The store with its password read (from the file, the environment or a file).
export type StoreConfig =
  | Exclude<ParsedStore, { kind: 'postgres' }>
  | (Omit<PostgresStoreInput, 'password'> & { password?: string });

export interface Config
  extends Omit<ParsedConfig, 'realms' | 'libraries' | 'clients' | 'keys' | 'authenticators' | 'store'> {
  source: string;
  store: StoreConfig;
  keys: { dir: string; accountKey?: string; pairwiseKey?: string; pinPepper?: string };
  realms: Realm[];
  libraries: Library[];
  clients: Client[];
}

// kind → the zod schema of that kind's options (from src/auth/registry.ts).
export type AuthenticatorKinds = Readonly<Record<string, z.ZodType>>;

export class ConfigError extends PatronymError {
  readonly problems: readonly string[];
  constructor(source: string, problems: readonly string[]) {
    super('config_invalid', `config: ${source}: ${problems.length} problem(s)\n  - ${problems.join('\n  - ')}`);
    this.problems = problems;
  }
}

export function resolveSecret(ref: SecretRef, where: string, env: NodeJS.ProcessEnv = process.env): string {
  if (typeof ref === 'string') return ref;
  if ('env' in ref) {
    const value = env[ref.env];
    if (!value)
      throw new PatronymError('config_secret_missing', `${where}: environment variable "${ref.env}" is not set`);
    return value;
  }
  try {
    const value = readFileSync(ref.file, 'utf8').trim();
    if (!value) throw new Error('file is empty');
    return value;
  } catch (error) {
    throw new PatronymError(
      'config_secret_missing',
      `${where}: cannot read secret file "${ref.file}" (${(error as Error).message})`,
    );
  }
}

function resolveStore(store: ParsedStore, env: NodeJS.ProcessEnv, problems: string[]): StoreConfig {
  if (store.kind !== 'postgres') return store;
  const { password, ...postgres } = store;
  if (password === undefined) return postgres;
  try {
    return { ...postgres, password: resolveSecret(password, 'store.password', env) };
  } catch (error) {
    problems.push((error as Error).message);
    return postgres;
  }
}

export interface LoadOptions {
  kinds: AuthenticatorKinds;
  env?: NodeJS.ProcessEnv;
}

export function loadConfigFile(file: string, options: LoadOptions): Config {
  const read = readYaml(file);
  if (!read.ok) throw new ConfigError(file, read.problems);
  return parseConfig(read.value, file, options);
}

// The same, with the YAML parsed in a worker thread (for reloads: the
// server keeps answering while a large file is parsed).
export async function loadConfigFileOffThread(file: string, options: LoadOptions): Promise<Config> {
  const read = await readYamlOffThread(file);
  if (!read.ok) throw new ConfigError(file, read.problems);
  return parseConfig(read.value, file, options);
}

// One authenticator entry against its kind's schema.
function resolveEntry(
  entry: AuthenticatorEntry,
  path: readonly PropertyKey[],
  defaultId: string,
  kinds: AuthenticatorKinds,
  problems: string[],
): ResolvedAuthenticator | undefined {
  const schema = typeof entry?.kind === 'string' ? kinds[entry.kind] : undefined;
  if (!schema) {
    if (typeof entry?.kind === 'string') {
      problems.push(
        `${dotted([...path, 'kind'])}: unknown authenticator kind; found ${JSON.stringify(entry.kind)}, expected one of ${Object.keys(kinds).join(', ')}`,
      );
    }
    return undefined;
  }
  const { id, kind, ...rest } = entry;
  const result = schema.safeParse(rest, { reportInput: true });
  if (!result.success) {
    problems.push(...zodProblems(result.error, path));
    return undefined;
  }
  return { id: id ?? defaultId, kind, options: result.data as Record<string, unknown> };
}

// Shared authenticators first, then each library's chain (inline entries and
// references to shared ones). Runs on the raw input so that problems are
// found even when the rest of the file is wrong.
function resolveAuthenticators(
  input: Record<string, unknown>,
  kinds: AuthenticatorKinds,
  problems: string[],
): Map<string, ResolvedAuthenticator[]> {
  const shared = new Map<string, ResolvedAuthenticator>();
  const sharedEntries = Array.isArray(input.authenticators) ? (input.authenticators as AuthenticatorEntry[]) : [];
  sharedEntries.forEach((entry, i) => {
    if (typeof entry?.id !== 'string') return; // the schema reports it
    if (shared.has(entry.id)) problems.push(`authenticators[${i}].id: duplicate; found ${JSON.stringify(entry.id)}`);
    const resolved = resolveEntry(entry, ['authenticators', i], entry.id, kinds, problems);
    if (resolved) shared.set(resolved.id, resolved);
  });

  const chains = new Map<string, ResolvedAuthenticator[]>();
  const libraries = Array.isArray(input.libraries) ? (input.libraries as unknown[]) : [];
  libraries.forEach((lib, li) => {
    const entries = (lib as { authenticators?: unknown })?.authenticators;
    if (!Array.isArray(entries)) return;
    const libId = String((lib as { id?: unknown }).id ?? li);
    const chain: ResolvedAuthenticator[] = [];
    entries.forEach((entry: AuthenticatorEntry | string, ai) => {
      const path = ['libraries', li, 'authenticators', ai];
      if (typeof entry === 'string') {
        const found = shared.get(entry);
        if (found) chain.push(found);
        else if (!sharedEntries.some((s) => s?.id === entry)) {
          problems.push(
            `${dotted(path)}: no shared authenticator with this id; found ${JSON.stringify(entry)}, expected one of ${[...shared.keys()].join(', ') || '(none defined under `authenticators`)'}`,
          );
        }
        return;
      }
      if (typeof entry?.id === 'string' && sharedEntries.some((s) => s?.id === entry.id)) {
        problems.push(
          `${dotted([...path, 'id'])}: duplicate of a shared authenticator; found ${JSON.stringify(entry.id)}`,
        );
        return;
      }
      const sameKind = entries.filter((e: unknown) => (e as AuthenticatorEntry)?.kind === entry?.kind);
      const n = sameKind.indexOf(entry) + 1;
      const defaultId = sameKind.length > 1 ? `${libId}-${entry?.kind}-${n}` : `${libId}-${entry?.kind}`;
      const resolved = resolveEntry(entry, path, defaultId, kinds, problems);
      if (resolved) chain.push(resolved);
    });
    chains.set(libId, chain);
  });
  return chains;
}

export function parseConfig(raw: unknown, source: string, options: LoadOptions): Config {
  const env = options.env ?? process.env;
  const input: Record<string, unknown> = raw && typeof raw === 'object' ? { ...(raw as object) } : {};
  const problems: string[] = [];

  if (env.PORT !== undefined) {
    const port = Number(env.PORT);
    if (Number.isInteger(port)) input.port = port;
    else problems.push(`PORT (environment): expected a port number; found ${JSON.stringify(env.PORT)}`);
  }
  if (env.ISSUER) input.issuer = env.ISSUER;
  // The shared database's URL from the environment (a container's usual
  // way). The file's other postgres settings (pool, TLS, password) stay;
  // a file naming another kind is overridden.
  if (env.PATRONYM_STORE_URL) {
    const file = input.store as { kind?: unknown } | undefined;
    input.store = { ...(file?.kind === 'postgres' ? file : {}), kind: 'postgres', url: env.PATRONYM_STORE_URL };
  }

  const parsed = configSchema.safeParse(input, { reportInput: true });
  if (!parsed.success) problems.push(...zodProblems(parsed.error));
  const chains = resolveAuthenticators(input, options.kinds, problems);
  // Cross-field checks need a well-formed file; authenticator problems alone
  // do not stop them, so one run still lists nearly everything.
  if (!parsed.success) throw new ConfigError(source, problems);

  const config = parsed.data;
  if (config.issuer.endsWith('/'))
    problems.push(`issuer: must not end with "/"; found ${JSON.stringify(config.issuer)}`);
  const { realms, libraries } = checkLibraries(config, chains, problems);
  const clients = checkClients(config.clients, problems, (ref, where) => resolveSecret(ref, where, env));

  const keys: Config['keys'] = { dir: config.keys.dir };
  for (const name of ['accountKey', 'pairwiseKey', 'pinPepper'] as const) {
    const ref = config.keys[name];
    if (ref === undefined) continue;
    try {
      keys[name] = resolveSecret(ref, `keys.${name}`, env);
    } catch (error) {
      problems.push((error as Error).message);
    }
  }

  const store = resolveStore(config.store, env, problems);

  if (problems.length > 0) throw new ConfigError(source, problems);
  const { authenticators: _shared, ...rest } = config;
  return { ...rest, source, keys, realms, libraries, clients, store };
}
