// kind → store. The only file that imports concrete stores.
import type { StoreConfig } from '../config/config.ts';
import { MemoryStore } from './memory.ts';
import { PostgresStore } from './postgres.ts';
import { SqliteStore } from './sqlite.ts';
import type { Store, StoreOptions, StorePeers } from './store.ts';

// Opens at once; a postgres store connects and migrates in the background
// (every call waits for it). Use connectStore to wait and fail early.
// `shared`: other processes write the same SQLite file while this one runs
// (a CLI command beside a running broker): no write-behind (sqlite.ts),
// every write is in the file when its call resolves. `peers` (workers on
// one SQLite file): the other processes hold records too, and find each
// other's through `peers`: write-behind across workers (sqlite.ts).
export interface OpenOptions extends StoreOptions {
  shared?: boolean;
  peers?: StorePeers | undefined;
}

export function openStore(config: StoreConfig, options: OpenOptions = {}): Store {
  switch (config.kind) {
    case 'memory':
      return new MemoryStore(options);
    case 'sqlite': {
      const { peers, shared, ...rest } = options;
      const writeBehind = peers ? { peers } : !shared;
      const store = new SqliteStore(config.path, { ...rest, writeBehind });
      peers?.answer(
        () => store.flushPending(),
        (model, wanted) => store.writeHeld(model, wanted),
      );
      return store;
    }
    case 'postgres':
      return new PostgresStore({
        ...options,
        url: config.url,
        poolSize: config.poolSize,
        ...(config.password !== undefined ? { password: config.password } : {}),
        ...(config.tls ? { tls: config.tls } : {}),
      });
  }
}

// Opens a store and resolves once it answers with a schema this broker
// knows (the process entry and the CLI: a bad URL or a newer schema stops
// them at start, not at the first sign-in).
export async function connectStore(config: StoreConfig, options: OpenOptions = {}): Promise<Store> {
  const store = openStore(config, options);
  if (store instanceof PostgresStore) {
    try {
      await store.ready();
    } catch (error) {
      await store.close();
      throw error;
    }
  }
  return store;
}
