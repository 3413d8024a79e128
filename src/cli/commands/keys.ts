// `patronym keys rotate|retire`: see src/security/key-rotation.ts. The
// running broker picks the change up on SIGHUP (or a restart).

import { PatronymError } from '../../errors.ts';
import {
  retireCookieKeys,
  retireSigningKeys,
  rotateCookieKeys,
  rotateSigningKeys,
} from '../../security/key-rotation.ts';
import { loadConfig } from '../context.ts';

const RELOAD = 'Reload every broker instance (kill -HUP, or restart) for the change to take effect.\n';

export async function rotateCommand(options: { cookies?: boolean }): Promise<void> {
  const { keys } = loadConfig();
  const { added, kept } = await rotateSigningKeys(keys.dir);
  process.stdout.write(
    `signing keys: ${added.join(', ')} sign from now on; ${kept.join(', ')} still verify until retired\n`,
  );
  if (options.cookies)
    process.stdout.write(`cookie keys: a new key signs; ${rotateCookieKeys(keys.dir) - 1} older key(s) still verify\n`);
  process.stdout.write(RELOAD);
}

export function parseDuration(text: string): number {
  const m = /^(\d+)\s*(s|m|h|d)?$/.exec(text.trim());
  if (!m) throw new PatronymError('usage', `keys: a duration like 90m, 24h or 7d; found "${text}"`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
}

export function retireCommand(options: { grace: string; cookies?: boolean }): void {
  const { keys, ttl } = loadConfig();
  const grace = parseDuration(options.grace);
  // Tokens signed by an old key live at most this long; retiring sooner
  // would break tokens vendors still hold.
  const longest = Math.max(ttl.idToken, ttl.accessToken);
  if (grace < longest) {
    throw new PatronymError(
      'usage',
      `keys: a grace of ${grace}s is shorter than the longest token lifetime (${longest}s)`,
    );
  }
  const { retired, kept } = retireSigningKeys(keys.dir, grace);
  process.stdout.write(
    retired.length > 0
      ? `signing keys retired: ${retired.join(', ')}; kept: ${kept.join(', ')}\n`
      : `no signing key stopped signing more than ${options.grace} ago; kept: ${kept.join(', ')}\n`,
  );
  if (options.cookies) process.stdout.write(`cookie keys retired: ${retireCookieKeys(keys.dir)}\n`);
  process.stdout.write(RELOAD);
}
