// kind → store. The only file that imports concrete stores.
import type { Config } from '../config/load.ts';
import { MemoryStore } from './memory.ts';
import { SqliteStore } from './sqlite.ts';
import type { Store, StoreOptions } from './store.ts';

export function openStore(config: Config['store'], options: StoreOptions = {}): Store {
  switch (config.kind) {
    case 'memory':
      return new MemoryStore(options);
    case 'sqlite':
      return new SqliteStore(config.path, options);
  }
}
