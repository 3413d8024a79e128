// Which patron file a `patronym patrons` command works on, and the warnings
// a sysadmin needs before writing to it: a file no `file` authenticator
// reads (its patrons could never sign in), a card no library's card
// patterns match (its patrons would be sent to the library chooser or to
// another library). Pure but for the configuration it is given.
import { resolve } from 'node:path';
import type { Config } from '../../config/config.ts';
import { compilePattern } from '../../config/patterns.ts';
import { PatronymError } from '../../errors.ts';

interface PatronFile {
  path: string;
  // The libraries whose chain reads it.
  libraries: Config['libraries'];
}

function patronFiles(config: Config): PatronFile[] {
  const files = new Map<string, PatronFile>();
  for (const library of config.libraries) {
    for (const a of library.authenticators) {
      if (a.kind !== 'file' || typeof a.options.path !== 'string') continue;
      const key = resolve(a.options.path);
      const known = files.get(key) ?? { path: a.options.path, libraries: [] };
      if (!known.libraries.includes(library)) known.libraries.push(library);
      files.set(key, known);
    }
  }
  return [...files.values()];
}

// --file, or the one patron file the configuration names.
export function chooseFile(config: Config, given: string | undefined): { path: string; warnings: string[] } {
  const files = patronFiles(config);
  if (given === undefined) {
    if (files.length === 1) return { path: (files[0] as PatronFile).path, warnings: [] };
    throw new PatronymError(
      'usage',
      files.length === 0
        ? `patrons: ${config.source} names no patron file (no \`file\` authenticator): give --file`
        : `patrons: ${config.source} names ${files.length} patron files (${files.map((f) => f.path).join(', ')}): give --file`,
    );
  }
  const read = files.some((f) => resolve(f.path) === resolve(given));
  const warnings = read
    ? []
    : [
        `no \`file\` authenticator in ${config.source} reads "${given}": its patrons cannot sign in` +
          (files.length > 0 ? ` (patron files read: ${files.map((f) => f.path).join(', ')})` : ''),
      ];
  return { path: given, warnings };
}

// A warning when libraries reading this file have card patterns and none
// matches the card (never quoting the card: the warning may be pasted).
export function cardWarning(config: Config, path: string, card: string): string | undefined {
  const file = patronFiles(config).find((f) => resolve(f.path) === resolve(path));
  const libraries = file?.libraries ?? config.libraries;
  const patterned = libraries.filter((l) => l.cardPatterns.length > 0);
  if (patterned.length === 0) return undefined;
  if (patterned.some((l) => l.cardPatterns.some((p) => compilePattern(p)(card)))) return undefined;
  return `the card matches the card patterns of no library reading this file (${patterned
    .map((l) => `${l.id}: ${l.cardPatterns.join(', ')}`)
    .join('; ')}): patrons typing it are not routed to that library`;
}
