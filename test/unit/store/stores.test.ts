import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../src/store/memory.ts';
import { SqliteStore } from '../../../src/store/sqlite.ts';
import { storeSuite } from '../../conformance/store.suite.ts';

storeSuite('memory', { open: async (clock) => new MemoryStore({ now: clock.now }) });

const dir = mkdtempSync(join(tmpdir(), 'patronym-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
let current = '';
storeSuite('sqlite', {
  open: async (clock) => {
    current = join(dir, `store-${n++}`, 'patronym.sqlite');
    return new SqliteStore(current, { now: clock.now });
  },
  reopen: async (clock) => new SqliteStore(current, { now: clock.now }),
});

// The embedded default of one broker process: oidc-provider's records held
// in memory and written once a second (the suite's reopen closes first,
// which writes them).
storeSuite('sqlite, write-behind', {
  open: async (clock) => {
    current = join(dir, `store-${n++}`, 'patronym.sqlite');
    return new SqliteStore(current, { now: clock.now, writeBehind: true });
  },
  reopen: async (clock) => new SqliteStore(current, { now: clock.now, writeBehind: true }),
});

describe('sqlite migrations', () => {
  it('adds the account index to a database made before it, keeping its records', async () => {
    const path = join(dir, 'old.sqlite');
    const db = new Database(path);
    db.exec(`CREATE TABLE records (model TEXT NOT NULL, id TEXT NOT NULL, payload TEXT NOT NULL, grant_id TEXT,
      uid TEXT, user_code TEXT, expires_at INTEGER, PRIMARY KEY (model, id)) WITHOUT ROWID;`);
    db.prepare(`INSERT INTO records VALUES ('Grant', 'g', '{"accountId":"a1"}', NULL, NULL, NULL, NULL)`).run();
    db.close();
    const store = new SqliteStore(path);
    expect(await store.findByAccount('a1')).toEqual([{ model: 'Grant', id: 'g', payload: { accountId: 'a1' } }]);
    await store.close();
    // and opening it again is a no-op
    const again = new SqliteStore(path);
    expect(await again.find('Grant', 'g')).toEqual({ accountId: 'a1' });
    await again.close();
  });
});
