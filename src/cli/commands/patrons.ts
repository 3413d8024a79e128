// `patronym patrons add|list|remove|set-pin|block|unblock|hash-pin`: manage
// a `file` authenticator's patron file, so nobody edits it by hand. PINs
// are read without echo and never printed; the file is rewritten whole
// (mode 0600), and the broker picks the change up without a restart.
import { existsSync } from 'node:fs';
import { normaliseCredentials } from '../../auth/credentials.ts';
import { type PatronEntry, readPatronFile, writePatronFile } from '../../auth/file/patron-file.ts';
import { hashPin } from '../../auth/file/pin-hash.ts';
import { PatronymError } from '../../errors.ts';
import { loadConfigAndKeys } from '../context.ts';
import { readSecret } from '../prompt.ts';
import { cardWarning, chooseFile } from './patron-files.ts';

const warn = (message: string) => process.stderr.write(`patronym: warning: ${message}\n`);
const out = (line: string) => process.stdout.write(`${line}\n`);

export async function hashPinCommand(): Promise<void> {
  const { keys } = await loadConfigAndKeys();
  const pin = (await readSecret('PIN: ')).normalize('NFKC').trim();
  if (!pin) throw new PatronymError('pin_missing', 'patrons: the PIN is empty');
  process.stdout.write(`${await hashPin(keys.pinPepper, pin)}\n`);
}

export interface AddOptions {
  file?: string;
  id: string;
  status: PatronEntry['status'];
  expires?: string;
}

// The card as the sign-in form would normalise it (spaces and dashes gone).
function cardOf(text: string): string {
  const checked = normaliseCredentials(text, 'x');
  if (!checked.ok) throw new PatronymError('patron_invalid', `patrons: ${checked.problem.replace('-', ' ')}`);
  return checked.credentials.card;
}

async function readPin(card: string, prompt: string): Promise<string> {
  const checked = normaliseCredentials(card, await readSecret(prompt));
  if (!checked.ok) throw new PatronymError('patron_invalid', `patrons: ${checked.problem.replace('-', ' ')}`);
  return checked.credentials.pin;
}

export async function addPatronCommand(card: string, options: AddOptions): Promise<void> {
  const { config, keys } = await loadConfigAndKeys();
  const { path, warnings } = chooseFile(config, options.file);
  const normalised = cardOf(card);
  const pin = await readPin(normalised, 'PIN for the new patron: ');
  if (options.expires !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(options.expires)) {
    throw new PatronymError('patron_invalid', `patrons: --expires must be YYYY-MM-DD; found "${options.expires}"`);
  }
  const patrons = existsSync(path) ? readPatronFile(path) : [];
  if (patrons.some((p) => p.card === normalised)) {
    throw new PatronymError('patron_exists', `patrons: that card is already in "${path}"`);
  }
  if (patrons.some((p) => p.id === options.id)) {
    throw new PatronymError('patron_exists', `patrons: id "${options.id}" is already in "${path}"`);
  }
  const entry: PatronEntry = {
    card: normalised,
    id: options.id,
    pin: await hashPin(keys.pinPepper, pin),
    status: options.status,
  };
  if (options.expires) entry.expires = options.expires;
  writePatronFile(path, [...patrons, entry]);
  out(`added patron "${options.id}" to ${path} (${patrons.length + 1} patrons)`);
  for (const w of warnings) warn(w);
  const mismatch = cardWarning(config, path, normalised);
  if (mismatch) warn(mismatch);
}

export async function listPatronsCommand(options: { file?: string }): Promise<void> {
  const { config } = await loadConfigAndKeys();
  const { path, warnings } = chooseFile(config, options.file);
  for (const w of warnings) warn(w);
  const patrons = readPatronFile(path);
  out('id\tcard\tstatus\texpires');
  for (const p of patrons) {
    const expires = p.expires instanceof Date ? p.expires.toISOString().slice(0, 10) : (p.expires ?? '');
    out(`${p.id}\t${p.card}\t${p.status}\t${expires}`);
  }
  out(`${patrons.length} patron${patrons.length === 1 ? '' : 's'} in ${path}`);
}

// One patron, by card, changed and the file written back.
async function changePatron(
  card: string,
  file: string | undefined,
  change: (entry: PatronEntry) => Promise<PatronEntry | undefined>,
): Promise<{ path: string; id: string }> {
  const { config } = await loadConfigAndKeys();
  const { path, warnings } = chooseFile(config, file);
  for (const w of warnings) warn(w);
  const normalised = cardOf(card);
  const patrons = readPatronFile(path);
  const index = patrons.findIndex((p) => p.card === normalised);
  const entry = patrons[index];
  if (!entry) throw new PatronymError('patron_unknown', `patrons: no patron with that card in "${path}"`);
  const next = await change(entry);
  writePatronFile(path, next ? patrons.map((p, i) => (i === index ? next : p)) : patrons.filter((_, i) => i !== index));
  return { path, id: entry.id };
}

export async function removePatronCommand(card: string, options: { file?: string }): Promise<void> {
  const { path, id } = await changePatron(card, options.file, async () => undefined);
  out(`removed patron "${id}" from ${path}`);
}

export async function setPinCommand(card: string, options: { file?: string }): Promise<void> {
  const { keys } = await loadConfigAndKeys();
  const { path, id } = await changePatron(card, options.file, async (entry) => ({
    ...entry,
    pin: await hashPin(keys.pinPepper, await readPin(entry.card, 'new PIN: ')),
  }));
  out(`set a new PIN for patron "${id}" in ${path}`);
}

export async function setStatusCommand(
  card: string,
  status: PatronEntry['status'],
  options: { file?: string },
): Promise<void> {
  const { path, id } = await changePatron(card, options.file, async (entry) => ({ ...entry, status }));
  out(`patron "${id}" in ${path} is now ${status}`);
}
