// The patron file: a YAML list of patrons with hashed PINs, for demos and
// very small libraries. Read and checked as a whole; a broken file is a
// clear error naming the entry, never a half-loaded list.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseDocument, stringify } from 'yaml';
import { z } from 'zod';
import { PatronymError } from '../../errors.ts';
import { isPinHash } from './pin-hash.ts';

const date = z.union([z.date(), z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD')]);

export const patronEntrySchema = z.strictObject({
  card: z.string().min(1).max(64),
  id: z.string().min(1).max(200).describe("the patron's permanent id (kept when the card is replaced)"),
  pin: z.string().refine(isPinHash, 'a PIN hash made by `patronym patrons hash-pin`'),
  status: z.enum(['active', 'blocked', 'expired']).default('active'),
  expires: date.optional(),
  attributes: z.record(z.string(), z.array(z.string())).optional(),
});

const fileSchema = z.strictObject({ patrons: z.array(patronEntrySchema).default([]) });

export type PatronEntry = z.infer<typeof patronEntrySchema>;

export function expiryOf(entry: PatronEntry): Date | undefined {
  if (entry.expires === undefined) return undefined;
  // The card is valid through the whole expiry day (UTC).
  const day = entry.expires instanceof Date ? entry.expires.toISOString().slice(0, 10) : entry.expires;
  return new Date(`${day}T23:59:59.999Z`);
}

export function readPatronFile(path: string): PatronEntry[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new PatronymError(
      'patron_file_unreadable',
      `file: cannot read patron file "${path}" (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    throw new PatronymError(
      'patron_file_invalid',
      `file: "${path}" is not valid YAML (${doc.errors[0]?.message.split('\n')[0]})`,
    );
  }
  const parsed = fileSchema.safeParse(doc.toJS() ?? {});
  if (!parsed.success) {
    // Never quote values: the file holds card numbers.
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new PatronymError('patron_file_invalid', `file: "${path}": ${problems.join('; ')}`);
  }
  const seen = new Set<string>();
  parsed.data.patrons.forEach((p, i) => {
    if (seen.has(p.card))
      throw new PatronymError('patron_file_invalid', `file: "${path}": patrons.${i}.card: duplicate card`);
    seen.add(p.card);
  });
  return parsed.data.patrons;
}

export function writePatronFile(path: string, patrons: readonly PatronEntry[]): void {
  const header =
    '# Patronym patron file. PINs are scrypt hashes peppered with keys/pin-pepper:\n# add patrons with `patronym patrons add`, never by hand.\n';
  writeFileSync(path, header + stringify({ patrons }), { mode: 0o600 });
}
