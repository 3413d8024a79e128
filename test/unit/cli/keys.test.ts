// `patronym keys rotate` says when the new keys take effect (after a
// reload, not "from now on") and rotates only what was asked.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadKeys } from '../../../src/security/keys.ts';

const dir = mkdtempSync(join(tmpdir(), 'patronym-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const keys = join(dir, 'keys');
const config = join(dir, 'config.yaml');
writeFileSync(
  config,
  `keys: { dir: ${keys} }\nlibraries: [{ id: l, name: L, authenticators: [{ kind: file, path: p }] }]\n`,
);

const run = (...args: string[]) =>
  new Promise<{ code: number; out: string }>((resolve) =>
    execFile(
      process.execPath,
      ['bin/patronym.mjs', 'keys', ...args],
      { env: { ...process.env, PATRONYM_CONFIG: config } },
      (e, stdout, stderr) => resolve({ code: e ? 1 : 0, out: stdout + stderr }),
    ),
  );
const signing = () => readFileSync(join(keys, 'signing.jwks.json'), 'utf8');
const cookies = () => readFileSync(join(keys, 'cookies.json'), 'utf8');

describe('patronym keys rotate', { timeout: 60_000 }, () => {
  it('rotates the signing keys only, and says they sign after a reload (kill -HUP)', async () => {
    await loadKeys(keys, {}, {});
    const [signingBefore, cookiesBefore] = [signing(), cookies()];
    const rotated = await run('rotate');
    expect(rotated.code, rotated.out).toBe(0);
    expect(rotated.out).toMatch(/^signing keys: rs-\d{8}-\w+, es-\d{8}-\w+ will sign after the reload; /m);
    expect(rotated.out).toContain('kill -HUP <pid>');
    expect(rotated.out).toContain('Until then the running brokers keep signing with the old keys');
    expect(rotated.out).not.toContain('from now on');
    expect(signing()).not.toBe(signingBefore);
    expect(cookies()).toBe(cookiesBefore);
  });

  it('with --cookies rotates the cookie keys only', async () => {
    const [signingBefore, cookiesBefore] = [signing(), cookies()];
    const rotated = await run('rotate', '--cookies');
    expect(rotated.code, rotated.out).toBe(0);
    expect(rotated.out).toContain(
      'cookie keys: a new key will sign cookies after the reload; 1 older key(s) still verify',
    );
    expect(rotated.out).not.toContain('signing keys:');
    expect(signing()).toBe(signingBefore);
    expect(JSON.parse(cookies())).toHaveLength(JSON.parse(cookiesBefore).length + 1);
  });
});
