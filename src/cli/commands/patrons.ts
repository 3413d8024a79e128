// `patronym patrons add|hash-pin`: manage a `file` authenticator's patron file.
import { existsSync } from 'node:fs';
import { normaliseCredentials } from '../../auth/credentials.ts';
import { type PatronEntry, readPatronFile, writePatronFile } from '../../auth/file/patron-file.ts';
import { hashPin } from '../../auth/file/pin-hash.ts';
import { PatronymError } from '../../errors.ts';
import { loadConfigAndKeys } from '../context.ts';
import { readSecret } from '../prompt.ts';

export async function hashPinCommand(): Promise<void> {
  const { keys } = await loadConfigAndKeys();
  const pin = (await readSecret('PIN: ')).normalize('NFKC').trim();
  if (!pin) throw new PatronymError('pin_missing', 'patrons: the PIN is empty');
  process.stdout.write(`${await hashPin(keys.pinPepper, pin)}\n`);
}

export interface AddOptions {
  file: string;
  id: string;
  status: PatronEntry['status'];
  expires?: string;
}

export async function addPatronCommand(card: string, options: AddOptions): Promise<void> {
  const { keys } = await loadConfigAndKeys();
  const pin = await readSecret('PIN for the new patron: ');
  const checked = normaliseCredentials(card, pin);
  if (!checked.ok) throw new PatronymError('patron_invalid', `patrons: ${checked.problem.replace('-', ' ')}`);
  if (options.expires !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(options.expires)) {
    throw new PatronymError('patron_invalid', `patrons: --expires must be YYYY-MM-DD; found "${options.expires}"`);
  }
  const patrons = existsSync(options.file) ? readPatronFile(options.file) : [];
  if (patrons.some((p) => p.card === checked.credentials.card)) {
    throw new PatronymError('patron_exists', `patrons: that card is already in "${options.file}"`);
  }
  if (patrons.some((p) => p.id === options.id)) {
    throw new PatronymError('patron_exists', `patrons: id "${options.id}" is already in "${options.file}"`);
  }
  const entry: PatronEntry = {
    card: checked.credentials.card,
    id: options.id,
    pin: await hashPin(keys.pinPepper, checked.credentials.pin),
    status: options.status,
  };
  if (options.expires) entry.expires = options.expires;
  writePatronFile(options.file, [...patrons, entry]);
  process.stdout.write(`added patron "${options.id}" to ${options.file} (${patrons.length + 1} patrons)\n`);
}
