// Issue 15: the patron file managed from the command line (list, remove,
// set-pin, block, unblock; never a PIN printed), warnings for a card no
// library's patterns match and for a file no authenticator reads, and
// `check --card` failing when the sign-in would not succeed.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'patronym-patrons-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, 'patrons.yaml');
const config = join(dir, 'config.yaml');
writeFileSync(
  config,
  `keys: { dir: ${join(dir, 'keys')} }
libraries: [{ id: springfield, name: S, cardPatterns: ["21234"], authenticators: [{ kind: file, path: ${file} }] }]
`,
);

function cli(args: string[], stdin = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['bin/patronym.mjs', ...args],
      { env: { ...process.env, PATRONYM_CONFIG: config } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(stdin);
  });
}

const CARD = '21234000000077';
const PIN = '7531';

describe('patronym patrons: the whole patron file from the command line', { timeout: 120_000 }, () => {
  it('adds to the file the configuration names, lists it without PINs, and warns about nothing', async () => {
    const added = await cli(['patrons', 'add', CARD, '--id', 'p-77'], `${PIN}\n`);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stderr).toBe('');
    const list = await cli(['patrons', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toBe(`id\tcard\tstatus\texpires\np-77\t${CARD}\tactive\t\n1 patron in ${file}\n`);
    expect(list.stdout).not.toContain('$scrypt');
    expect(readFileSync(file, 'utf8')).not.toContain(PIN);
  });

  it('check --card exits 0 for a sign-in that works, 2 for one refused, 1 for a backend failing', async () => {
    const ok = await cli(['check', '--card', CARD], `${PIN}\n`);
    expect(ok.code, ok.stdout).toBe(0);
    expect(ok.stdout).toContain('ok (the patron would be signed in)');
    const wrong = await cli(['check', '--card', CARD], '0000\n');
    expect(wrong.code, wrong.stdout).toBe(2);
    expect(wrong.stdout).toContain('denied: bad-credentials');
    expect(wrong.stdout).toContain('that card would not be signed in');
    const unknown = await cli(['check', '--card', '21234999999999'], '1234\n');
    expect(unknown.code).toBe(2);
    const broken = join(dir, 'broken.yaml');
    writeFileSync(
      broken,
      `keys: { dir: ${join(dir, 'keys')} }\nlibraries: [{ id: b, name: B, authenticators: [{ kind: file, path: ${join(dir, 'missing.yaml')} }] }]\n`,
    );
    const failed = await new Promise<number>((resolve) => {
      const child = execFile(
        process.execPath,
        ['bin/patronym.mjs', 'check', '--card', CARD],
        { env: { ...process.env, PATRONYM_CONFIG: broken } },
        (error) => resolve(error ? Number(error.code ?? 1) : 0),
      );
      child.stdin?.end(`${PIN}\n`);
    });
    expect(failed).toBe(1);
  });

  it('blocks and unblocks a patron: the sign-in follows', async () => {
    const blocked = await cli(['patrons', 'block', CARD]);
    expect(blocked.stdout).toContain(`patron "p-77" in ${file} is now blocked`);
    expect((await cli(['patrons', 'list'])).stdout).toContain(`p-77\t${CARD}\tblocked`);
    const refused = await cli(['check', '--card', CARD], `${PIN}\n`);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toContain('denied: blocked');
    expect((await cli(['patrons', 'unblock', CARD])).stdout).toContain('is now active');
    expect((await cli(['check', '--card', CARD], `${PIN}\n`)).code).toBe(0);
  });

  it('sets a new PIN without printing it: the old one stops working', async () => {
    const set = await cli(['patrons', 'set-pin', CARD], '8642\n');
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toBe(`set a new PIN for patron "p-77" in ${file}\n`);
    expect((await cli(['check', '--card', CARD], `${PIN}\n`)).code).toBe(2);
    expect((await cli(['check', '--card', CARD], '8642\n')).code).toBe(0);
  });

  it('removes a patron, and says so when the card is not there', async () => {
    expect((await cli(['patrons', 'remove', CARD])).stdout).toBe(`removed patron "p-77" from ${file}\n`);
    expect((await cli(['patrons', 'list'])).stdout).toContain('0 patrons in');
    const missing = await cli(['patrons', 'remove', CARD]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('patrons: no patron with that card in');
    expect(missing.stderr).not.toContain(CARD);
  });

  it('warns about a card no library matches and a file no authenticator reads', async () => {
    const stray = await cli(['patrons', 'add', '99990000000001', '--id', 'p-99'], '1234\n');
    expect(stray.code).toBe(0);
    expect(stray.stderr).toContain(
      'patronym: warning: the card matches the card patterns of no library reading this file (springfield: 21234)',
    );
    expect(stray.stderr).not.toContain('99990000000001');
    const elsewhere = join(dir, 'elsewhere.yaml');
    const unread = await cli(['patrons', 'add', '21234000000088', '--id', 'p-88', '--file', elsewhere], '1234\n');
    expect(unread.code).toBe(0);
    expect(unread.stderr).toContain(
      `patronym: warning: no \`file\` authenticator in ${config} reads "${elsewhere}": its patrons cannot sign in (patron files read: ${file})`,
    );
  });
});
