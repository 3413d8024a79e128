// `patronym store copy`: moves every live record from one store to another,
// e.g. from the SQLite file of one machine to the PostgreSQL database of
// several, so patrons keep their consents, pseudonym generations and
// sessions, and vendors their registrations and grants. Records keep their
// expiry; expired ones are left behind. The limiter's counters are not
// copied (they last minutes; a move starts them afresh).
import type { StoreConfig } from '../../config/config.ts';
import { PatronymError } from '../../errors.ts';
import { connectStore } from '../../store/registry.ts';
import type { DumpedRecord, Store } from '../../store/store.ts';

// `sqlite:<path>` or a `postgres://` URL (password from PGPASSWORD, as
// psql reads it, never on the command line).
export function parseStoreLocation(location: string): StoreConfig {
  if (location.startsWith('sqlite:')) {
    const path = location.slice('sqlite:'.length);
    if (path) return { kind: 'sqlite', path };
  }
  if (/^postgres(ql)?:\/\/\S+$/.test(location)) return { kind: 'postgres', url: location, poolSize: 8 };
  throw new PatronymError(
    'store_location_invalid',
    `store copy: not a store location: "${redact(location)}" (expected sqlite:<path> or postgres://user@host:port/database)`,
  );
}

function redact(location: string): string {
  return location.replace(/^(postgres(?:ql)?:\/\/[^:/@]+):[^@]*@/, '$1:***@');
}

async function isEmpty(store: Store): Promise<boolean> {
  for await (const _ of store.dump()) return false;
  return true;
}

export interface CopyOptions {
  from: string;
  to: string;
  force?: boolean;
  now?: () => number;
}

// Resolves with the number of records copied, by model.
export async function copyStore(options: CopyOptions): Promise<Record<string, number>> {
  const now = options.now ?? Date.now;
  const source = await connectStore(parseStoreLocation(options.from), { now, shared: true });
  try {
    const target = await connectStore(parseStoreLocation(options.to), { now, shared: true });
    try {
      if (!options.force && !(await isEmpty(target))) {
        throw new PatronymError(
          'store_not_empty',
          `store copy: the target "${redact(options.to)}" already holds records; add --force to write into it (records with the same id are replaced)`,
        );
      }
      const copied: Record<string, number> = {};
      let batch: DumpedRecord[] = [];
      // Batches written in parallel: the pool's connections all work.
      const flush = async () => {
        await Promise.all(
          batch.map((r) =>
            target.upsert(
              r.model,
              r.id,
              r.payload,
              r.expiresAt === undefined ? undefined : (r.expiresAt - now()) / 1000,
            ),
          ),
        );
        for (const r of batch) copied[r.model] = (copied[r.model] ?? 0) + 1;
        batch = [];
      };
      for await (const record of source.dump()) {
        if (record.expiresAt !== undefined && record.expiresAt <= now()) continue;
        batch.push(record);
        if (batch.length >= 200) await flush();
      }
      await flush();
      return copied;
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}

export async function copyStoreCommand(options: { from: string; to: string; force?: boolean }): Promise<void> {
  const copied = await copyStore(options);
  const total = Object.values(copied).reduce((a, b) => a + b, 0);
  const parts = Object.entries(copied)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([model, n]) => `${model} ${n}`);
  process.stdout.write(
    `store copy: ${total} record(s) from ${redact(options.from)} to ${redact(options.to)}${parts.length ? ` (${parts.join(', ')})` : ''}\n`,
  );
}
