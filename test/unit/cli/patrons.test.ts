// The CLI as a sysadmin runs it: a child process, the PIN on stdin.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileAuthenticator } from '../../../src/auth/file/file-authenticator.ts';
import { loadKeys } from '../../../src/security/keys.ts';

const dir = mkdtempSync(join(tmpdir(), 'patronym-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const config = join(dir, 'config.yaml');
writeFileSync(
  config,
  `keys: { dir: ${join(dir, 'keys')} }\nlibraries: [{ id: l, name: L, authenticators: [{ kind: file, path: ${join(dir, 'patrons.yaml')} }] }]\n`,
);

function cli(args: string[], stdin: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['src/cli/main.ts', ...args],
      { env: { ...process.env, PATRONYM_CONFIG: config } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(stdin);
  });
}

describe('patronym patrons', { timeout: 60_000 }, () => {
  it('adds a patron whose PIN then works, without the PIN in the file or the output', async () => {
    const file = join(dir, 'patrons.yaml');
    const result = await cli(['patrons', 'add', '2999 0000-001', '--file', file, '--id', 'p-1'], '8642\n');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('added patron "p-1"');
    expect(result.stdout).not.toContain('8642');
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(/card: "?29990000001"?/);
    expect(text).not.toContain('8642');
    const keys = await loadKeys(join(dir, 'keys'), {}, {});
    const auth = new FileAuthenticator('f', { path: file }, { pinPepper: keys.pinPepper });
    expect(await auth.authenticate({ card: '29990000001', pin: '8642' })).toMatchObject({
      kind: 'ok',
      patron: { stableId: 'p-1' },
    });
  });

  it('refuses a duplicate card and an empty PIN with a clear message', async () => {
    const file = join(dir, 'patrons.yaml');
    const duplicate = await cli(['patrons', 'add', '29990000001', '--file', file, '--id', 'p-2'], '1111\n');
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toContain('patronym: patrons: that card is already in');
    expect(duplicate.stderr).not.toContain('29990000001');
    const empty = await cli(['patrons', 'add', '29990000002', '--file', file, '--id', 'p-3'], '\n');
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain('pin missing');
  });

  it('hash-pin prints a hash that is not the PIN', async () => {
    const result = await cli(['patrons', 'hash-pin'], '1234\n');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^\$scrypt\$ln=14,r=8,p=1\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]{43}\n$/);
  });

  it('check reports each backend', async () => {
    const result = await cli(['check'], '');
    expect(result.stdout).toMatch(/^pass {2}l-file \(file\) for library l: 1 patrons in /m);
    expect(result.stdout).toContain('1 authenticator for 1 library: 1 answered, 0 failed');
  });

  it('check asks a shared authenticator once, naming the libraries it serves', async () => {
    const shared = join(dir, 'consortium.yaml');
    const libraries = Array.from(
      { length: 6 },
      (_, i) =>
        `{ id: b${i}, name: B${i}, realm: sys, authenticators: [ils, { id: own${i}, kind: file, path: ${join(dir, `missing${i}.yaml`)} }] }`,
    );
    writeFileSync(
      shared,
      `keys: { dir: ${join(dir, 'keys')} }\nauthenticators: [{ id: ils, kind: file, path: ${join(dir, 'patrons.yaml')} }]\nlibraries:\n${libraries.map((l) => `  - ${l}`).join('\n')}\n`,
    );
    const result = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(
        process.execPath,
        ['src/cli/main.ts', 'check'],
        { env: { ...process.env, PATRONYM_CONFIG: shared } },
        (error, stdout) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout }),
      );
    });
    const lines = result.stdout.split('\n');
    expect(lines.filter((l) => l.startsWith('pass  ils '))).toEqual([
      expect.stringMatching(/^pass {2}ils \(file\) for libraries b0, b1, b2 and 3 more: 1 patrons in /),
    ]);
    expect(lines.filter((l) => l.startsWith('FAIL  own'))).toHaveLength(6);
    expect(result.stdout).toContain('7 authenticators for 6 libraries: 1 answered, 6 failed');
    expect(result.code).toBe(1);
  });
});
