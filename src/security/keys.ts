// Keys the broker needs, generated into keys/ (mode 0600) on first start and
// reused afterwards. Configured secrets (environment or files) take
// precedence over the generated files.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { PatronymError } from '../errors.ts';

export interface Keys {
  // Private JWKs, signer first: one RSA (RS256) and one EC P-256 (ES256).
  signing: JWK[];
  cookies: string[];
  accountKey: Buffer;
  pairwiseKey: Buffer;
  pinPepper: Buffer;
}

export interface KeyOverrides {
  accountKey?: string | undefined;
  pairwiseKey?: string | undefined;
  pinPepper?: string | undefined;
  cookies?: string[] | undefined;
}

// Exported for the first-start notice (src/first-start.ts).
export const FILES = {
  signing: 'signing.jwks.json',
  cookies: 'cookies.json',
  pseudonym: 'pseudonym.json',
  pepper: 'pin-pepper',
} as const;

function writeSecret(path: string, content: string): void {
  // 'wx' never overwrites a key another process wrote a moment ago.
  writeFileSync(path, content, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
}

function readJson<T>(path: string): T {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (error) {
    throw new PatronymError('keys_unreadable', `keys: cannot read "${path}" (${(error as Error).message})`);
  }
}

// A key given as configuration: base64url or hex of at least 32 bytes.
function decodeKey(value: string, name: string): Buffer {
  const trimmed = value.trim();
  const bytes =
    /^[0-9a-f]+$/i.test(trimmed) && trimmed.length % 2 === 0
      ? Buffer.from(trimmed, 'hex')
      : Buffer.from(trimmed, 'base64url');
  if (bytes.length < 32) {
    throw new PatronymError(
      'keys_too_short',
      `keys: ${name} must hold at least 32 random bytes (base64url or hex); found ${bytes.length}`,
    );
  }
  return bytes;
}

export async function newSigningKeys(): Promise<JWK[]> {
  const kid = new Date().toISOString().slice(0, 10).replaceAll('-', '');
  const rsa = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const ec = await generateKeyPair('ES256', { extractable: true });
  const suffix = randomBytes(3).toString('hex');
  return [
    { ...(await exportJWK(rsa.privateKey)), kid: `rs-${kid}-${suffix}`, alg: 'RS256', use: 'sig' },
    { ...(await exportJWK(ec.privateKey)), kid: `es-${kid}-${suffix}`, alg: 'ES256', use: 'sig' },
  ];
}

export async function loadKeys(
  dir: string,
  overrides: KeyOverrides = {},
  env: NodeJS.ProcessEnv = process.env,
): Promise<Keys> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });

  const signingPath = join(dir, FILES.signing);
  if (!existsSync(signingPath))
    writeSecret(signingPath, `${JSON.stringify({ keys: await newSigningKeys() }, null, 2)}\n`);
  const signing = readJson<{ keys: JWK[] }>(signingPath).keys;
  if (!Array.isArray(signing) || signing.length === 0) {
    throw new PatronymError('keys_unreadable', `keys: "${signingPath}" holds no keys`);
  }

  const cookiesPath = join(dir, FILES.cookies);
  const cookieOverride = overrides.cookies ?? env.PATRONYM_COOKIE_KEYS?.split(',').filter(Boolean);
  if (!cookieOverride && !existsSync(cookiesPath)) {
    writeSecret(cookiesPath, `${JSON.stringify([randomBytes(32).toString('base64url')])}\n`);
  }
  const cookies = cookieOverride ?? readJson<string[]>(cookiesPath);

  const pseudonymPath = join(dir, FILES.pseudonym);
  const accountOverride = overrides.accountKey ?? env.PATRONYM_ACCOUNT_KEY;
  const pairwiseOverride = overrides.pairwiseKey ?? env.PATRONYM_PAIRWISE_KEY;
  if ((!accountOverride || !pairwiseOverride) && !existsSync(pseudonymPath)) {
    writeSecret(
      pseudonymPath,
      `${JSON.stringify(
        { accountKey: randomBytes(32).toString('base64url'), pairwiseKey: randomBytes(32).toString('base64url') },
        null,
        2,
      )}\n`,
    );
  }
  const stored =
    !accountOverride || !pairwiseOverride
      ? readJson<{ accountKey: string; pairwiseKey: string }>(pseudonymPath)
      : undefined;

  const pepperPath = join(dir, FILES.pepper);
  const pepperOverride = overrides.pinPepper ?? env.PATRONYM_PIN_PEPPER;
  if (!pepperOverride && !existsSync(pepperPath)) writeSecret(pepperPath, `${randomBytes(32).toString('base64url')}\n`);
  const pepper = pepperOverride ?? readFileSync(pepperPath, 'utf8');

  return {
    signing,
    cookies,
    accountKey: decodeKey(accountOverride ?? stored?.accountKey ?? '', 'accountKey'),
    pairwiseKey: decodeKey(pairwiseOverride ?? stored?.pairwiseKey ?? '', 'pairwiseKey'),
    pinPepper: decodeKey(pepper, 'pinPepper'),
  };
}
