// Patron files for tests, hashed with a pepper the test chooses (and puts in
// the broker's configuration as keys.pinPepper).
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { type PatronEntry, writePatronFile } from '../../src/auth/file/patron-file.ts';
import { hashPin } from '../../src/auth/file/pin-hash.ts';

export const TEST_PEPPER_HEX = '7e'.repeat(32);
export const TEST_PEPPER = Buffer.from(TEST_PEPPER_HEX, 'hex');

export interface TestPatron {
  card: string;
  pin: string;
  id: string;
  status?: PatronEntry['status'];
}

export async function writePatrons(path: string, patrons: readonly TestPatron[]): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  const entries: PatronEntry[] = [];
  // Cheap scrypt parameters: these files are for tests only.
  for (const p of patrons) {
    entries.push({
      card: p.card,
      id: p.id,
      pin: await hashPin(TEST_PEPPER, p.pin, { ln: 10, r: 8, p: 1 }),
      status: p.status ?? 'active',
    });
  }
  writePatronFile(path, entries);
}
