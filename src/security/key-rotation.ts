// `patronym keys rotate|retire`: signing and cookie keys change without
// logging anyone out or breaking tokens already issued. A rotation puts new
// keys first (they sign from the next reload on) and keeps the old ones, so
// the JWKS still verifies tokens signed before; retiring removes keys that
// stopped signing more than a grace period ago. The pseudonym keys are never
// touched here: changing them changes every patron's pseudonym everywhere.
import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JWK } from 'jose';
import { PatronymError } from '../errors.ts';
import { newSigningKeys } from './keys.ts';

interface SigningFile {
  keys: JWK[];
  // kid → epoch seconds when the key stopped being the signer.
  rotatedOut?: Record<string, number>;
}

const signingPath = (dir: string) => join(dir, 'signing.jwks.json');
const cookiesPath = (dir: string) => join(dir, 'cookies.json');

function read<T>(path: string): T {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (error) {
    throw new PatronymError('keys_unreadable', `keys: cannot read "${path}" (${(error as Error).message})`);
  }
}

// Write-then-rename: a broker reloading at the same moment reads either the
// old file or the new one, never half of one.
function write(path: string, value: unknown): void {
  const temp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  renameSync(temp, path);
}

export interface RotationResult {
  added: string[];
  kept: string[];
}

export async function rotateSigningKeys(dir: string, now = Date.now()): Promise<RotationResult> {
  const file = read<SigningFile>(signingPath(dir));
  const added = await newSigningKeys();
  const rotatedOut = { ...file.rotatedOut };
  for (const key of file.keys)
    if (key.kid && rotatedOut[key.kid] === undefined) rotatedOut[key.kid] = Math.floor(now / 1000);
  write(signingPath(dir), { keys: [...added, ...file.keys], rotatedOut });
  return { added: added.map((k) => k.kid ?? ''), kept: file.keys.map((k) => k.kid ?? '') };
}

export function retireSigningKeys(
  dir: string,
  graceSeconds: number,
  now = Date.now(),
): { retired: string[]; kept: string[] } {
  const file = read<SigningFile>(signingPath(dir));
  const cutoff = Math.floor(now / 1000) - graceSeconds;
  const rotatedOut = file.rotatedOut ?? {};
  const retire = (key: JWK) =>
    key.kid !== undefined && rotatedOut[key.kid] !== undefined && (rotatedOut[key.kid] as number) <= cutoff;
  const kept = file.keys.filter((k) => !retire(k));
  const retired = file.keys.filter(retire);
  write(signingPath(dir), {
    keys: kept,
    rotatedOut: Object.fromEntries(Object.entries(rotatedOut).filter(([kid]) => kept.some((k) => k.kid === kid))),
  });
  return { retired: retired.map((k) => k.kid ?? ''), kept: kept.map((k) => k.kid ?? '') };
}

// Cookie keys: the first signs, all verify (and a cookie read with an older
// key is signed again with the first), so sessions survive a rotation.
export function rotateCookieKeys(dir: string): number {
  const keys = read<string[]>(cookiesPath(dir));
  write(cookiesPath(dir), [randomBytes(32).toString('base64url'), ...keys]);
  return keys.length + 1;
}

export function retireCookieKeys(dir: string): number {
  const [current] = read<string[]>(cookiesPath(dir));
  if (!current) throw new PatronymError('keys_unreadable', `keys: "${cookiesPath(dir)}" holds no keys`);
  const keys = read<string[]>(cookiesPath(dir));
  write(cookiesPath(dir), [current]);
  return keys.length - 1;
}
