// The checked, resolved configuration the rest of the broker reads: what
// load.ts returns and what checks.ts inspects, in a module of its own so the
// two do not import each other.
import type { z } from 'zod';
import type { ResourceContext } from './resources.ts';
import type { ClientConfig, LibraryConfig, ParsedConfig } from './schema.ts';

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

// An authenticator kind as the loader sees it: the schema of its options
// and, for a kind naming files (certificates, a patron file), a hook that
// reads them through the context and returns the options with what it read
// in place (see src/config/resources.ts). Its `{ env }` / `{ file }` secrets
// are resolved before the hook runs, without one.
export interface KindSpec {
  options: z.ZodType;
  // Method syntax: each kind's hook takes its own options type.
  resources?(options: Record<string, unknown>, context: ResourceContext): Record<string, unknown>;
}
// kind → its spec (from src/auth/registry.ts), or only its options schema.
export type AuthenticatorKinds = Readonly<Record<string, z.ZodType | KindSpec>>;

export const kindSpec = (kind: z.ZodType | KindSpec): KindSpec =>
  'options' in kind && !('safeParse' in kind) ? kind : { options: kind as z.ZodType };
