// The keys a first start generates (src/security/keys.ts) are what every
// patron's pseudonyms and every PIN hash hang on: losing them is losing
// every vendor's accounts. The broker says so, loudly, the one time it
// writes them, instead of leaving it to a README nobody re-reads.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FILES } from './security/keys.ts';

const KEY_FILES = Object.values(FILES);

export const missingKeyFiles = (dir: string): string[] => KEY_FILES.filter((f) => !existsSync(join(dir, f)));

// Given the files missing before the keys were loaded: the notice, or
// undefined when nothing new was written.
export function newKeysNotice(dir: string, missingBefore: readonly string[]): string | undefined {
  const written = missingBefore.filter((f) => existsSync(join(dir, f)));
  if (written.length === 0) return undefined;
  const losing: string[] = [];
  if (written.includes('pseudonym.json'))
    losing.push('without pseudonym.json every patron gets new pseudonyms at every vendor');
  if (written.includes('pin-pepper')) losing.push('without pin-pepper no PIN in a patron file can be checked');
  return (
    `patronym: generated new keys in ${dir}/ (${written.join(', ')}): back them up now to a safe, private place` +
    `${losing.length > 0 ? `; ${losing.join(', and ')}` : ''}.`
  );
}
