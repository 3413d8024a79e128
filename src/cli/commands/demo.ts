// `patronym demo init`: writes the demo patron file (data/demo-patrons.yaml)
// if it is missing. The PIN hashes depend on this installation's pepper
// (keys/pin-pepper), so the file cannot ship pre-hashed. The cards and PINs
// below are public demo data (ARCHITECTURE.md, "Contracts").
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { PatronEntry } from '../../auth/file/patron-file.ts';
import { writePatronFile } from '../../auth/file/patron-file.ts';
import { hashPin } from '../../auth/file/pin-hash.ts';

export const DEMO_PATRONS = [
  { card: '21234000000001', pin: '1234', id: 'demo-patron-0001', status: 'active' },
  { card: '21234000000002', pin: '2345', id: 'demo-patron-0002', status: 'active' },
  { card: '21234000000003', pin: '3456', id: 'demo-patron-0003', status: 'blocked' },
  { card: '21234000000004', pin: '4567', id: 'demo-patron-0004', status: 'active', expires: '2024-12-31' },
] as const;

export async function writeDemoPatrons(path: string, pepper: Buffer): Promise<boolean> {
  if (existsSync(path)) return false;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const patrons: PatronEntry[] = [];
  for (const p of DEMO_PATRONS) {
    const entry: PatronEntry = { card: p.card, id: p.id, pin: await hashPin(pepper, p.pin), status: p.status };
    if ('expires' in p) entry.expires = p.expires;
    patrons.push(entry);
  }
  writePatronFile(path, patrons);
  return true;
}
