import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadKeys } from '../../../src/security/keys.ts';

const root = mkdtempSync(join(tmpdir(), 'patronym-keys-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('keys', () => {
  it('generates every key on first start, mode 0600, and reuses them afterwards', async () => {
    const dir = join(root, 'a');
    const first = await loadKeys(dir, {}, {});
    for (const file of ['signing.jwks.json', 'cookies.json', 'pseudonym.json', 'pin-pepper']) {
      expect((statSync(join(dir, file)).mode & 0o777).toString(8), file).toBe('600');
    }
    expect(first.signing.map((k) => [k.kty, k.alg])).toEqual([
      ['RSA', 'RS256'],
      ['EC', 'ES256'],
    ]);
    expect(first.signing.every((k) => typeof k.d === 'string' && typeof k.kid === 'string')).toBe(true);
    expect(first.accountKey.length).toBe(32);
    expect(first.accountKey.equals(first.pairwiseKey)).toBe(false);
    const second = await loadKeys(dir, {}, {});
    expect(second).toEqual(first);
  });

  it('takes pseudonym keys and the pepper from the environment or configuration instead', async () => {
    const dir = join(root, 'b');
    const env = {
      PATRONYM_ACCOUNT_KEY: 'a'.repeat(64),
      PATRONYM_PAIRWISE_KEY: 'b'.repeat(64),
      PATRONYM_PIN_PEPPER: 'c'.repeat(64),
    };
    const keys = await loadKeys(dir, {}, env);
    expect(keys.accountKey).toEqual(Buffer.alloc(32, 0xaa));
    expect(keys.pairwiseKey).toEqual(Buffer.alloc(32, 0xbb));
    expect(keys.pinPepper).toEqual(Buffer.alloc(32, 0xcc));
    // nothing was generated for keys that came from outside
    expect(() => readFileSync(join(dir, 'pseudonym.json'))).toThrow(/ENOENT/);
    const configured = await loadKeys(dir, { accountKey: 'd'.repeat(64), pairwiseKey: 'e'.repeat(64) }, env);
    expect(configured.accountKey).toEqual(Buffer.alloc(32, 0xdd));
  });

  it('refuses a key that is too short to be a key', async () => {
    await expect(loadKeys(join(root, 'c'), { accountKey: 'short', pairwiseKey: 'e'.repeat(64) }, {})).rejects.toThrow(
      /accountKey must hold at least 32 random bytes/,
    );
  });
});
