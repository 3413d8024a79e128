import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
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
