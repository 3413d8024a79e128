// Signing and cookie keys rotate without breaking tokens already issued or
// logging anyone out; retiring removes old keys after the grace period.
import { execFile } from 'node:child_process';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  retireCookieKeys,
  retireSigningKeys,
  rotateCookieKeys,
  rotateSigningKeys,
} from '../../src/security/key-rotation.ts';
import { login, startLogin, vendor } from '../support/broker.ts';
import { useBroker } from '../support/use-broker.ts';

describe('key rotation', () => {
  const b = useBroker();

  const verify = (token: string) =>
    jwtVerify(token, createRemoteJWKSet(new URL(`${b.issuer}/jwks`), { cacheMaxAge: 0 }), { issuer: b.issuer });

  it('keeps tokens signed before a rotation verifiable, signs new ones with the new key, keeps sessions', async () => {
    const v = await vendor(b.issuer, 'demo-vendor', 'demo-vendor-secret');
    const before = await login(v, b.issuer, '21234000000001', '1234');
    const oldToken = before.tokens.id_token as string;
    const oldKid = decodeProtectedHeader(oldToken).kid;
    const sub = before.tokens.claims()?.sub;

    const { added } = await rotateSigningKeys(`${b.dir}/keys`);
    rotateCookieKeys(`${b.dir}/keys`);
    expect(await b.reload()).toBe(true);

    await verify(oldToken); // still published
    const jwks = (await (await fetch(`${b.issuer}/jwks`)).json()) as { keys: { kid: string; d?: string }[] };
    expect(jwks.keys.map((k) => k.kid)).toEqual(expect.arrayContaining([...added, oldKid]));
    expect(jwks.keys.every((k) => k.d === undefined)).toBe(true);

    // The broker session from before the rotation still signs the patron in.
    const again = await startLogin(
      await vendor(b.issuer, 'demo-vendor', 'demo-vendor-secret'),
      b.issuer,
      {},
      before.jar,
    );
    expect(again.loginPage).toBe('');
    const after = await login(
      await vendor(b.issuer, 'demo-vendor', 'demo-vendor-secret'),
      b.issuer,
      '21234000000001',
      '1234',
    );
    const newToken = after.tokens.id_token as string;
    expect(added).toContain(decodeProtectedHeader(newToken).kid);
    expect(after.tokens.claims()?.sub).toBe(sub); // pseudonyms never move with signing keys
    await verify(newToken);

    // Retire with no grace: the old key leaves the JWKS, the new still verifies.
    const { retired } = retireSigningKeys(`${b.dir}/keys`, 0);
    expect(retired).toContain(oldKid);
    retireCookieKeys(`${b.dir}/keys`);
    expect(await b.reload()).toBe(true);
    await expect(verify(oldToken)).rejects.toThrow(/no applicable key|JWKSNoMatchingKey/i);
    await verify(newToken);
  });

  it('refuses a reload whose pseudonym key changed', async () => {
    const { writeFileSync } = await import('node:fs');
    const { readFileSync } = await import('node:fs');
    const path = `${b.dir}/keys/pseudonym.json`;
    const original = readFileSync(path, 'utf8');
    writeFileSync(path, JSON.stringify({ accountKey: 'A'.repeat(43), pairwiseKey: 'B'.repeat(43) }));
    try {
      expect(await b.reload()).toBe(false);
      expect(b.logs.at(-1)).toContain('accountKey differs from the running one');
    } finally {
      writeFileSync(path, original);
    }
  });

  it('`patronym keys retire` refuses a grace shorter than the token lifetime', async () => {
    const { writeFileSync } = await import('node:fs');
    const config = `${b.dir}/cli.yaml`;
    writeFileSync(
      config,
      `keys: { dir: ${b.dir}/keys }\nlibraries: [{ id: l, name: L, authenticators: [{ kind: file, path: p }] }]\n`,
    );
    const run = (args: string[]) =>
      new Promise<{ code: number; out: string }>((resolve) =>
        execFile(
          process.execPath,
          ['src/cli/main.ts', ...args],
          { env: { ...process.env, PATRONYM_CONFIG: config } },
          (e, stdout, stderr) => resolve({ code: e ? 1 : 0, out: stdout + stderr }),
        ),
      );
    const short = await run(['keys', 'retire', '--grace', '10m']);
    expect(short.code).toBe(1);
    expect(short.out).toContain('shorter than the longest token lifetime (3600s)');
    const rotated = await run(['keys', 'rotate']);
    expect(rotated.code).toBe(0);
    expect(rotated.out).toMatch(/signing keys: rs-\d{8}-\w+, es-\d{8}-\w+ will sign after the reload/);
  });
});
