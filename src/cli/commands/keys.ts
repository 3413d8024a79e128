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

const RELOAD =
  'They take effect when each broker reloads: `kill -HUP <pid>` (the pid its start log prints; ' +
  '`systemctl reload patronym` under systemd) or a restart. Until then the running brokers keep signing with the old keys.\n';

// Rotates what was asked: the signing keys, or with --cookies the cookie
// keys only (rotating signing keys too would be a second, unasked change).
export async function rotateCommand(options: { cookies?: boolean }): Promise<void> {
  const { keys } = loadConfig();
  if (options.cookies) {
    const count = rotateCookieKeys(keys.dir);
    process.stdout.write(
      `cookie keys: a new key will sign cookies after the reload; ${count - 1} older key(s) still verify\n`,
    );
  } else {
    const { added, kept } = await rotateSigningKeys(keys.dir);
    process.stdout.write(
      `signing keys: ${added.join(', ')} will sign after the reload; ${kept.join(', ')} still verify until retired\n`,
    );
  }
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
