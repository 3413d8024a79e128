// PIN hashes for the patron file: scrypt over HMAC-SHA256(pepper, PIN) with a
// per-patron salt. A 4-digit PIN has 10,000 values, so a stolen file without
// the pepper (kept in keys/, never in the file) must not be enough to reverse
// it offline; scrypt makes each guess costly even with the pepper.
//
// Format: $scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt, base64url>$<hash, base64url>
import { createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

export interface ScryptParams {
  ln: number;
  r: number;
  p: number;
}

const DEFAULT_PARAMS: ScryptParams = { ln: 14, r: 8, p: 1 };
const KEY_LENGTH = 32;
const FORMAT = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9_-]{16,})\$([A-Za-z0-9_-]{43})$/;

function derive(pepper: Buffer, pin: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const peppered = createHmac('sha256', pepper).update(pin, 'utf8').digest();
  const N = 2 ** params.ln;
  return new Promise((resolve, reject) => {
    scrypt(peppered, salt, KEY_LENGTH, { N, r: params.r, p: params.p, maxmem: 256 * N * params.r }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

export async function hashPin(pepper: Buffer, pin: string, params: ScryptParams = DEFAULT_PARAMS): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(pepper, pin, salt, params);
  return `$scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export function isPinHash(value: string): boolean {
  const m = FORMAT.exec(value);
  return m !== null && Number(m[1]) >= 10 && Number(m[1]) <= 20 && Number(m[2]) >= 1 && Number(m[3]) >= 1;
}

export async function verifyPin(pepper: Buffer, pin: string, encoded: string): Promise<boolean> {
  const m = FORMAT.exec(encoded);
  if (!m || !isPinHash(encoded)) return false;
  const params = { ln: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  const expected = Buffer.from(m[5] as string, 'base64url');
  const actual = await derive(pepper, pin, Buffer.from(m[4] as string, 'base64url'), params);
  return timingSafeEqual(actual, expected);
}
