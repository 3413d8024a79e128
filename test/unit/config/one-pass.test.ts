// Issue 15: every problem of a configuration in one run, in one format:
// schema, secrets, files, certificates and logos together; YAML errors with
// their line and column; unknown keys with a "did you mean"; a file value
// hidden by the environment.
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { authenticatorKinds } from '../../../src/auth/registry.ts';
import { ConfigError, loadConfigFile } from '../../../src/config/load.ts';

const dir = mkdtempSync(join(tmpdir(), 'patronym-one-pass-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

function problemsOf(file: string, env: NodeJS.ProcessEnv = {}): readonly string[] {
  try {
    loadConfigFile(file, { kinds: authenticatorKinds, env });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

// Five problems of five kinds; each used to stop the start on its own.
const FIVE = `
port: eighty
libraries:
  - id: springfield
    name: Springfield
    logo: ${join(dir, 'no-logo.png')}
    authenticators:
      - kind: ldap
        urls: [ldaps://ldap.example.org]
        baseDn: ou=patrons,dc=example,dc=org
        filter: (cn={card})
        bindDn: cn=svc,dc=example,dc=org
        bindPassword: { env: LDAP_SERVICE_PASSWORD }
        tls: { ca: ${join(dir, 'no-ca.pem')} }
      - kind: file
        path: ${join(dir, 'no-patrons.yaml')}
`;

const FIVE_EXPECTED = [
  /^port: .*; found "eighty"$/,
  /^libraries\[0\]\.authenticators\[0\]\.bindPassword: environment variable "LDAP_SERVICE_PASSWORD" is not set; expected it to hold the secret$/,
  /^libraries\[0\]\.authenticators\[0\]\.tls\.ca: cannot read ".*no-ca\.pem": no such file \(ENOENT\); expected a CA certificate \(PEM\)$/,
  /^libraries\[0\]\.authenticators\[1\]\.path: cannot read ".*no-patrons\.yaml": no such file \(ENOENT\); expected a patron file/,
  /^libraries\[0\]\.logo: cannot read ".*no-logo\.png": no such file \(ENOENT\); expected a logo file$/,
];

function expectAll(list: readonly string[], patterns: readonly RegExp[]): void {
  for (const pattern of patterns)
    expect(
      list.some((p) => pattern.test(p)),
      `${pattern} in\n${list.join('\n')}`,
    ).toBe(true);
}

describe('start-up checks in one pass', () => {
  it('reports a schema problem, a missing secret, a missing file, a missing CA and a bad logo together', () => {
    const list = problemsOf(write('five.yaml', FIVE));
    expectAll(list, FIVE_EXPECTED);
    expect(list).toHaveLength(5);
  });

  it('reports them all from the broker process too, with exit 78 and no stack', async () => {
    const file = write('five-process.yaml', FIVE);
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const env: NodeJS.ProcessEnv = { ...process.env, PATRONYM_CONFIG: file };
      delete env.LDAP_SERVICE_PASSWORD;
      delete env.PORT;
      execFile(process.execPath, ['src/main.ts'], { env, timeout: 60_000 }, (error, _out, stderr) =>
        resolve({ code: error ? (error.code as number) : 0, stderr }),
      );
    });
    expect(code).toBe(78);
    expect(stderr).toContain('5 problem(s)');
    expectAll(
      stderr.split('\n').map((line) => line.replace(/^\s+- /, '')),
      FIVE_EXPECTED,
    );
    expect(stderr).not.toMatch(/\bat .*\.ts:\d+/);
  });

  it('reads secrets and certificates once, so the authenticators get their contents', () => {
    const ca = write('ca.pem', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const patrons = write('patrons.yaml', 'patrons: []\n');
    const config = loadConfigFile(
      write(
        'good.yaml',
        FIVE.replace('port: eighty', 'port: 8080')
          .replace(/\n {4}logo: .*/, '')
          .replace(join(dir, 'no-ca.pem'), ca)
          .replace(join(dir, 'no-patrons.yaml'), patrons),
      ),
      { kinds: authenticatorKinds, env: { LDAP_SERVICE_PASSWORD: 'from-env' } },
    );
    const ldap = config.libraries[0]?.authenticators[0];
    expect(ldap?.options.bindPassword).toBe('from-env');
    expect((ldap?.options.tls as { ca: string } | undefined)?.ca).toContain('-----BEGIN CERTIFICATE-----');
  });

  it('reports a YAML syntax error with its real line and column', () => {
    const list = problemsOf(
      write('broken.yaml', 'issuer: https://id.example.org\nport: 3000\nlibraries:\n  - id: a\n   name: broken\n'),
    );
    expect(list.length).toBeGreaterThan(0);
    expect(list[0]).toMatch(/^line 5, column \d+: /);
  });

  it('suggests the key meant for a typo, at every level', () => {
    const list = problemsOf(
      write(
        'typos.yaml',
        `isuer: https://id.example.org
libraries:
  - id: a
    nmae: A
    name: A
    authenticators:
      - kind: ldap
        urls: [ldaps://ldap.example.org]
        baseDN: ou=patrons,dc=example,dc=org
        filter: (cn={card})
store: { kind: sqlite, paht: x.sqlite }
`,
      ),
    );
    expectAll(list, [
      /^isuer: unknown key, did you mean "issuer"\?; expected one of issuer, port, /,
      /^libraries\[0\]\.nmae: unknown key, did you mean "name"\?/,
      /^libraries\[0\]\.authenticators\[0\]\.baseDN: unknown key, did you mean "baseDn"\?/,
      /^store\.paht: unknown key, did you mean "path"\?/,
    ]);
    // A word that is no near miss gets no guess.
    const far = problemsOf(write('far.yaml', 'colour: red\nlibraries: []\n'));
    expect(far.find((p) => p.startsWith('colour:'))).toMatch(/^colour: unknown key; expected one of/);
  });

  it('reports a file value hidden by PORT, ISSUER or PATRONYM_STORE_URL', () => {
    const list = problemsOf(
      write(
        'hidden.yaml',
        `port: eighty
issuer: not a url
store: { kind: postgres, url: mysql://x }
libraries: [{ id: a, name: A, authenticators: [{ kind: file, path: ${write('p2.yaml', 'patrons: []\n')} }] }]
`,
      ),
      { PORT: '8080', ISSUER: 'https://id.example.org', PATRONYM_STORE_URL: 'postgres://u@db/patronym' },
    );
    expectAll(list, [
      /^port: .*found "eighty" \(hidden by PORT in the environment, used whenever it is unset\)$/,
      /^issuer: .*found "not a url" \(hidden by ISSUER in the environment/,
      /^store\.url: .*found "mysql:\/\/x" \(hidden by PATRONYM_STORE_URL in the environment/,
    ]);
    expect(list).toHaveLength(3);
  });
});

describe('the SQLite store file, checked at start', () => {
  const withPath = (path: string) =>
    write(
      `sqlite-${Math.random().toString(36).slice(2)}.yaml`,
      `store: { kind: sqlite, path: ${path} }
libraries: [{ id: a, name: A, authenticators: [{ kind: file, path: ${write('p3.yaml', 'patrons: []\n')} }] }]
`,
    );

  it('names the path when it is a folder, or under a file', () => {
    expect(problemsOf(withPath(dir))).toEqual([
      `store.path: ${JSON.stringify(dir)} is a directory; expected a database file name`,
    ]);
    const file = write('not-a-folder', 'x');
    expect(problemsOf(withPath(join(file, 'patronym.sqlite')))[0]).toBe(
      `store.path: ${JSON.stringify(file)} in ${JSON.stringify(join(file, 'patronym.sqlite'))} is a file, not a folder; expected the broker's user to be able to read and write it and its folder (SQLite keeps a journal beside it)`,
    );
  });

  it('names the path and the permission needed when the folder or the file is read-only', (context) => {
    // Root passes every permission check: this needs an ordinary user.
    if (process.getuid?.() === 0) {
      console.warn('skipped: running as root, which may write anywhere');
      context.skip();
    }
    const folder = join(dir, 'read-only');
    mkdirSync(folder);
    writeFileSync(join(folder, 'patronym.sqlite'), '');
    chmodSync(join(folder, 'patronym.sqlite'), 0o400);
    expect(problemsOf(withPath(join(folder, 'patronym.sqlite')))[0]).toMatch(
      /^store\.path: cannot read and write ".*patronym\.sqlite": permission denied \(EACCES\): the broker's user needs read and write access; expected/,
    );
    chmodSync(folder, 0o500);
    expect(problemsOf(withPath(join(folder, 'new.sqlite')))[0]).toMatch(
      /^store\.path: cannot write in the folder ".*read-only" of ".*new\.sqlite": permission denied \(EACCES\): the broker's user needs write access; expected/,
    );
    chmodSync(folder, 0o700);
  });
});
