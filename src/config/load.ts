// YAML file + environment → a checked, resolved Config. Every problem is
// collected and reported at once, each with its dotted path, what was found
// and what was expected, so a sysadmin fixes a file in one pass.
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { PatronymError } from '../errors.ts';
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
}

export interface ResolvedAuthenticator {
  id: string;
  kind: string;
  // The kind's own options, parsed by its schema.
  options: Record<string, unknown>;
}

export interface Library extends Omit<LibraryConfig, 'authenticators' | 'realm'> {
  realm: string;
  authenticators: ResolvedAuthenticator[];
}

export interface Client extends Omit<ClientConfig, 'client_secret'> {
  client_secret?: string;
}

export interface Config extends Omit<ParsedConfig, 'realms' | 'libraries' | 'clients' | 'keys'> {
  source: string;
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

const SECRETISH = /secret|key|pepper|pin|password/i;

function dotted(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${String(part)}` : String(part)),
    '',
  );
}

function found(path: readonly PropertyKey[], input: unknown): string {
  if (input === undefined) return 'nothing';
  if (path.some((p) => typeof p === 'string' && SECRETISH.test(p))) return 'a value (not shown: it may be secret)';
  const text = JSON.stringify(input) ?? String(input);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function zodProblems(error: z.ZodError, prefix: readonly PropertyKey[] = []): string[] {
  return error.issues.map((issue) => {
    const path = [...prefix, ...issue.path];
    return `${dotted(path) || '(top level)'}: ${issue.message}; found ${found(path, issue.input)}`;
  });
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

export interface LoadOptions {
  kinds: AuthenticatorKinds;
  env?: NodeJS.ProcessEnv;
}

export function loadConfigFile(file: string, options: LoadOptions): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, [`cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => `line ${(e.linePos?.[0]?.line ?? 0).toString()}: ${e.message.split('\n')[0]}`),
    );
  }
  return parseConfig(doc.toJS(), file, options);
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

  const parsed = configSchema.safeParse(input, { reportInput: true });
  if (!parsed.success) problems.push(...zodProblems(parsed.error));

  // Each authenticator against its own kind's schema, even when the rest of
  // the file is wrong, so one run lists everything.
  const libraries = Array.isArray(input.libraries) ? (input.libraries as unknown[]) : [];
  const resolvedAuth = new Map<string, ResolvedAuthenticator[]>();
  libraries.forEach((lib, li) => {
    const entries = (lib as { authenticators?: unknown })?.authenticators;
    if (!Array.isArray(entries)) return;
    const libId = String((lib as { id?: unknown }).id ?? li);
    const list: ResolvedAuthenticator[] = [];
    entries.forEach((entry: AuthenticatorEntry, ai) => {
      const path = ['libraries', li, 'authenticators', ai];
      const kind = entry?.kind;
      const schema = typeof kind === 'string' ? options.kinds[kind] : undefined;
      if (!schema) {
        if (typeof kind === 'string') {
          problems.push(
            `${dotted([...path, 'kind'])}: unknown authenticator kind; found ${JSON.stringify(kind)}, expected one of ${Object.keys(options.kinds).join(', ')}`,
          );
        }
        return;
      }
      const { id: _id, kind: _kind, ...rest } = entry;
      const result = schema.safeParse(rest, { reportInput: true });
      if (!result.success) {
        problems.push(...zodProblems(result.error, path));
        return;
      }
      const count = entries.filter((e: AuthenticatorEntry) => e?.kind === kind).length;
      const sameKindIndex = entries.slice(0, ai).filter((e: AuthenticatorEntry) => e?.kind === kind).length;
      list.push({
        id: entry.id ?? (count > 1 ? `${libId}-${kind}-${sameKindIndex + 1}` : `${libId}-${kind}`),
        kind,
        options: result.data as Record<string, unknown>,
      });
    });
    resolvedAuth.set(libId, list);
  });

  if (!parsed.success || problems.length > 0) throw new ConfigError(source, problems);
  const config = parsed.data;
  const issuerHost = new URL(config.issuer).hostname.toLowerCase();
  if (config.issuer.endsWith('/'))
    problems.push(`issuer: must not end with "/"; found ${JSON.stringify(config.issuer)}`);

  const realms = new Map<string, Realm>();
  config.realms.forEach((realm, i) => {
    if (realms.has(realm.id)) problems.push(`realms[${i}].id: duplicate; found ${JSON.stringify(realm.id)}`);
    realms.set(realm.id, { id: realm.id, scope: realm.scope ?? issuerHost });
  });

  const seenLibraries = new Set<string>();
  const seenAuthenticators = new Set<string>();
  const out: Library[] = config.libraries.map((library, i) => {
    if (seenLibraries.has(library.id))
      problems.push(`libraries[${i}].id: duplicate; found ${JSON.stringify(library.id)}`);
    seenLibraries.add(library.id);
    const realm = library.realm ?? library.id;
    if (!realms.has(realm)) {
      if (library.realm !== undefined && config.realms.length > 0) {
        problems.push(
          `libraries[${i}].realm: no such realm; found ${JSON.stringify(realm)}, expected one of ${[...realms.keys()].join(', ')}`,
        );
      }
      realms.set(realm, { id: realm, scope: issuerHost });
    }
    library.cardPatterns.forEach((pattern, p) => {
      if (pattern.startsWith('/')) {
        const ok = /^\/\^.*\$\/$/.test(pattern);
        let compiles = true;
        try {
          new RegExp(pattern.slice(1, -1));
        } catch {
          compiles = false;
        }
        if (!ok || !compiles) {
          problems.push(
            `libraries[${i}].cardPatterns[${p}]: expected a prefix or an anchored regular expression "/^...$/"; found ${JSON.stringify(pattern)}`,
          );
        }
      }
    });
    const authenticators = resolvedAuth.get(library.id) ?? [];
    authenticators.forEach((a, ai) => {
      if (seenAuthenticators.has(a.id)) {
        problems.push(`libraries[${i}].authenticators[${ai}].id: duplicate; found ${JSON.stringify(a.id)}`);
      }
      seenAuthenticators.add(a.id);
    });
    const { authenticators: _a, realm: _r, ...rest } = library;
    return { ...rest, realm, authenticators };
  });

  const seenClients = new Set<string>();
  const clients: Client[] = config.clients.map((client, i) => {
    if (seenClients.has(client.client_id)) {
      problems.push(`clients[${i}].client_id: duplicate; found ${JSON.stringify(client.client_id)}`);
    }
    seenClients.add(client.client_id);
    const method = client.token_endpoint_auth_method ?? (client.client_secret ? 'client_secret_basic' : 'none');
    if (method !== 'none' && !client.client_secret) {
      problems.push(`clients[${i}].client_secret: required for ${method}; found nothing`);
    }
    if (method === 'none' && client.client_secret) {
      problems.push(`clients[${i}].client_secret: a public client (token_endpoint_auth_method none) has no secret`);
    }
    // OIDC Core 8.1: without a sector_identifier_uri, all redirect URIs must
    // share one host, which becomes the vendor's sector.
    const hosts = new Set(client.redirect_uris.map((uri) => new URL(uri).hostname.toLowerCase()));
    if (hosts.size > 1 && !client.sector_identifier_uri) {
      problems.push(
        `clients[${i}].redirect_uris: span several hosts (${[...hosts].join(', ')}); add a sector_identifier_uri listing them`,
      );
    }
    const { client_secret, ...rest } = client;
    const resolved: Client = { ...rest, token_endpoint_auth_method: method };
    if (client_secret !== undefined) {
      try {
        resolved.client_secret = resolveSecret(client_secret, `clients[${i}].client_secret`, env);
      } catch (error) {
        problems.push((error as Error).message);
      }
    }
    return resolved;
  });

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

  if (problems.length > 0) throw new ConfigError(source, problems);
  return { ...config, source, keys, realms: [...realms.values()], libraries: out, clients };
}
