// YAML file + environment → a checked, resolved Config. Every problem is
// collected and reported at once, each with its dotted path, what was found
// and what was expected, so a sysadmin fixes a file in one pass.
import { readFileSync } from 'node:fs';
import { PatronymError } from '../errors.ts';
import { checkClients, checkLibraries } from './checks.ts';
import {
  type AuthenticatorKinds,
  type Config,
  kindSpec,
  type ResolvedAuthenticator,
  type StoreConfig,
} from './config.ts';
import { checkNamedFiles } from './file-checks.ts';
import { overrideProblems } from './overrides.ts';
import { dotted, zodProblems } from './problems.ts';
import { readYaml } from './read-yaml.ts';
import { type ResourceContext, resolveSecrets, resourceContext } from './resources.ts';
import { type AuthenticatorEntry, configSchema, type ParsedConfig, type SecretRef } from './schema.ts';

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
    if (!value) throw new PatronymError('config_secret_missing', 'file is empty');
    return value;
  } catch (error) {
    throw new PatronymError(
      'config_secret_missing',
      `${where}: cannot read secret file "${ref.file}" (${(error as Error).message})`,
    );
  }
}

function resolveStore(store: ParsedConfig['store'], context: ResourceContext): StoreConfig {
  if (store.kind !== 'postgres') return store;
  const { password, ...postgres } = store;
  if (password === undefined) return postgres;
  const value = context.secret(password, ['store', 'password']);
  return value === undefined ? postgres : { ...postgres, password: value };
}

export interface LoadOptions {
  kinds: AuthenticatorKinds;
  env?: NodeJS.ProcessEnv;
  // Read the files the configuration names (patron files, certificates,
  // logos) and report the missing ones; default true. False only for
  // commands that create such a file (`demo init`, `patrons add`).
  files?: boolean;
}

export function loadConfigFile(file: string, options: LoadOptions): Config {
  const read = readYaml(file);
  if (!read.ok) throw new ConfigError(file, read.problems);
  return parseConfig(read.value, file, options);
}

// One authenticator entry against its kind's schema.
interface EntryScope {
  kinds: AuthenticatorKinds;
  problems: string[];
  env: NodeJS.ProcessEnv;
  files: boolean;
}

function resolveEntry(
  entry: AuthenticatorEntry,
  path: readonly PropertyKey[],
  defaultId: string,
  { kinds, problems, env, files }: EntryScope,
): ResolvedAuthenticator | undefined {
  const known = typeof entry?.kind === 'string' ? kinds[entry.kind] : undefined;
  if (!known) {
    if (typeof entry?.kind === 'string') {
      problems.push(
        `${dotted([...path, 'kind'])}: unknown authenticator kind; found ${JSON.stringify(entry.kind)}, expected one of ${Object.keys(kinds).join(', ')}`,
      );
    }
    return undefined;
  }
  const spec = kindSpec(known);
  const { id, kind, ...rest } = entry;
  const result = spec.options.safeParse(rest, { reportInput: true });
  if (!result.success) {
    problems.push(...zodProblems(result.error, path, spec.options));
    return undefined;
  }
  // Secrets and files now, so a missing one is reported with the rest.
  const context = resourceContext(env, problems, path, files);
  let options = resolveSecrets(result.data, context) as Record<string, unknown>;
  if (spec.resources) options = spec.resources(options, context);
  return { id: id ?? defaultId, kind, options };
}

// Shared authenticators first, then each library's chain (inline entries and
// references to shared ones). Runs on the raw input so that problems are
// found even when the rest of the file is wrong.
function resolveAuthenticators(
  input: Record<string, unknown>,
  scope: EntryScope,
): Map<string, ResolvedAuthenticator[]> {
  const { problems } = scope;
  const shared = new Map<string, ResolvedAuthenticator>();
  const sharedEntries = Array.isArray(input.authenticators) ? (input.authenticators as AuthenticatorEntry[]) : [];
  sharedEntries.forEach((entry, i) => {
    if (typeof entry?.id !== 'string') return; // the schema reports it
    if (shared.has(entry.id)) problems.push(`authenticators[${i}].id: duplicate; found ${JSON.stringify(entry.id)}`);
    const resolved = resolveEntry(entry, ['authenticators', i], entry.id, scope);
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
      const resolved = resolveEntry(entry, path, defaultId, scope);
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
  const files = options.files ?? true;
  const context = resourceContext(env, problems, [], files);
  // A file value the environment hides is still reported: without the
  // variable (another shell, the systemd unit) the broker would not start.
  problems.push(...overrideProblems(input, env));

  // An empty variable (`Environment=PORT=` in a unit) counts as unset.
  if (env.PORT !== undefined && env.PORT !== '') {
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
  if (!parsed.success) problems.push(...zodProblems(parsed.error, [], configSchema));
  const chains = resolveAuthenticators(input, { kinds: options.kinds, problems, env, files });
  // Files and secrets are checked on the input as written, so they are
  // reported even when the schema found problems elsewhere.
  checkNamedFiles(input, context);
  // Cross-field checks need a well-formed file; authenticator problems alone
  // do not stop them, so one run still lists nearly everything.
  if (!parsed.success) {
    unparsedSecrets(input, context);
    throw new ConfigError(source, problems);
  }

  const config = parsed.data;
  if (config.issuer.endsWith('/'))
    problems.push(`issuer: must not end with "/"; found ${JSON.stringify(config.issuer)}`);
  const { realms, libraries } = checkLibraries(config, chains, problems);
  const clients = checkClients(config.clients, problems, context);

  const keys: Config['keys'] = { dir: config.keys.dir };
  for (const name of ['accountKey', 'pairwiseKey', 'pinPepper'] as const) {
    const ref = config.keys[name];
    if (ref === undefined) continue;
    const value = context.secret(ref, ['keys', name]);
    if (value !== undefined) keys[name] = value;
  }

  const store = resolveStore(config.store, context);

  if (problems.length > 0) throw new ConfigError(source, problems);
  const { authenticators: _shared, ...rest } = config;
  return { ...rest, source, keys, realms, libraries, clients, store };
}

// When the schema refused the file, the secrets of keys, vendors and the
// store are still looked up where they are written as `{ env }` / `{ file }`.
function unparsedSecrets(input: Record<string, unknown>, context: ResourceContext): void {
  const at = (value: unknown, key: string) =>
    value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  for (const name of ['accountKey', 'pairwiseKey', 'pinPepper'])
    resolveSecrets(at(input.keys, name), context, ['keys', name]);
  const clients: unknown[] = Array.isArray(input.clients) ? input.clients : [];
  clients.forEach((c, i) => {
    resolveSecrets(at(c, 'client_secret'), context, ['clients', i, 'client_secret']);
  });
  resolveSecrets(at(input.store, 'password'), context, ['store', 'password']);
}
