// The SQLite files hold sessions, grants and accountIds: readable by the
// broker's user only (0600), in a folder only it can enter (0700), whatever
// the umask, and tightened when an older installation left them 0644.
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../../src/store/sqlite.ts';

const root = mkdtempSync(join(tmpdir(), 'patronym-sqlite-mode-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const mode = (path: string) => statSync(path).mode & 0o777;

describe('SQLite file modes', () => {
  it('creates the database, its WAL and shared-memory files 0600 in a 0700 folder', async () => {
    const previous = process.umask(0o022);
    try {
      const path = join(root, 'fresh', 'patronym.sqlite');
      const store = new SqliteStore(path);
      await store.upsert('Grant', 'g1', { accountId: 'a' });
      expect(mode(join(root, 'fresh'))).toBe(0o700);
      for (const file of [path, `${path}-wal`, `${path}-shm`]) expect(mode(file), file).toBe(0o600);
      await store.close();
    } finally {
      process.umask(previous);
    }
  });

  it('tightens files an older version created 0644', async () => {
    const path = join(root, 'old.sqlite');
    writeFileSync(path, '', { mode: 0o644 });
    const store = new SqliteStore(path);
    await store.upsert('Grant', 'g1', { accountId: 'a' });
    for (const file of [path, `${path}-wal`, `${path}-shm`]) expect(mode(file), file).toBe(0o600);
    await store.close();
  });
});
