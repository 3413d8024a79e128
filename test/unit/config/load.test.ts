import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { authenticatorKinds } from '../../../src/auth/registry.ts';
import { ConfigError, loadConfigFile, parseConfig } from '../../../src/config/load.ts';

const dir = mkdtempSync(join(tmpdir(), 'patronym-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const GOOD = `
issuer: https://login.springfield.example.org
libraries:
  - id: springfield
    name: Springfield Public Library
    authenticators:
      - kind: file
        path: data/patrons.yaml
clients:
  - client_id: vendor
    client_secret: { env: VENDOR_SECRET }
    redirect_uris: [https://vendor.example/cb]
`;

// Files named by the test configurations (patron files) are not read here
// unless a test says so: the start-up file checks have their own tests.
function load(text: string, env: NodeJS.ProcessEnv = { VENDOR_SECRET: 's3cret' }, files = false) {
  const file = join(dir, `c-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, text);
  return { file, run: () => loadConfigFile(file, { kinds: authenticatorKinds, env, files }) };
}

function problems(
  text: string,
  env?: NodeJS.ProcessEnv,
): { file: string; message: string; problems: readonly string[] } {
  const { file, run } = load(text, env, true);
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return { file, message: (error as ConfigError).message, problems: (error as ConfigError).problems };
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('loads a good file with defaults filled in and secrets resolved', () => {
    const config = load(GOOD).run();
    expect(config.port).toBe(3000);
    expect(config.store).toEqual({ kind: 'sqlite', path: 'data/patronym.sqlite' });
    expect(config.realms).toEqual([{ id: 'springfield', scope: 'login.springfield.example.org' }]);
    expect(config.libraries[0]?.authenticators).toEqual([
      { id: 'springfield-file', kind: 'file', options: { path: 'data/patrons.yaml' } },
    ]);
    expect(config.clients[0]?.client_secret).toBe('s3cret');
    expect(config.clients[0]?.token_endpoint_auth_method).toBe('client_secret_basic');
  });

  it('reads secrets from files and PORT/ISSUER from the environment', () => {
    const secret = join(dir, 'secret');
    writeFileSync(secret, 'from-a-file\n');
    const config = parseConfig(
      {
        libraries: [{ id: 'l', name: 'L', authenticators: [{ kind: 'file', path: 'p' }] }],
        clients: [{ client_id: 'v', client_secret: { file: secret }, redirect_uris: ['https://v.example/cb'] }],
      },
      'inline',
      { kinds: authenticatorKinds, env: { PORT: '8080', ISSUER: 'https://id.example.org' }, files: false },
    );
    expect(config.clients[0]?.client_secret).toBe('from-a-file');
    expect(config.port).toBe(8080);
    expect(config.issuer).toBe('https://id.example.org');
  });

  it('names the file and reports every problem at once, with path, found and expected', () => {
    const {
      file,
      message,
      problems: list,
    } = problems(
      `
issuer: not a url
port: "eighty"
keepAliveTimeout: 0
colour: blue
libraries:
  - id: Spring Field
    name: ""
    authenticators:
      - kind: file
      - kind: carrier-pigeon
clients:
  - client_id: v
    client_secret: { env: MISSING_SECRET }
    redirect_uris: [https://a.example/cb, https://b.example/cb]
`,
      {},
    );
    expect(message).toContain(file);
    const expected = [
      /^issuer: .*found "not a url"/,
      /^port: .*expected number.*found "eighty"/,
      /^keepAliveTimeout: .*found 0/,
      /^colour: unknown key; expected one of issuer, port/,
      /^libraries\[0\]\.id: lower-case letters.*found "Spring Field"/,
      /^libraries\[0\]\.name: .*found ""/,
      /^libraries\[0\]\.authenticators\[0\]\.path: .*expected string.*found nothing/,
      /^libraries\[0\]\.authenticators\[1\]\.kind: unknown authenticator kind; found "carrier-pigeon", expected one of file/,
    ];
    for (const pattern of expected)
      expect(
        list.some((p) => pattern.test(p)),
        `${pattern} in\n${list.join('\n')}`,
      ).toBe(true);
  });

  it('reports cross-field problems: missing secrets, duplicates, unknown realms, multi-host redirects', () => {
    const { problems: list } = problems(
      `
realms: [{ id: consortium }]
libraries:
  - { id: a, name: A, realm: elsewhere, authenticators: [{ kind: file, path: p }] }
  - { id: a, name: A2, authenticators: [{ kind: file, path: p }], cardPatterns: ["/2123/", "/^(/"] }
clients:
  - { client_id: v, client_secret: { env: MISSING_SECRET }, redirect_uris: [https://a.example/cb, https://b.example/cb] }
  - { client_id: v, redirect_uris: [https://a.example/cb], token_endpoint_auth_method: client_secret_basic }
`,
      {},
    );
    const expected = [
      /clients\[0\]\.client_secret: environment variable "MISSING_SECRET" is not set/,
      /^clients\[0\]\.redirect_uris: span several hosts/,
      /^clients\[1\]\.client_id: duplicate/,
      /^clients\[1\]\.client_secret: required for client_secret_basic/,
      /^libraries\[1\]\.id: duplicate/,
      /^libraries\[0\]\.realm: no such realm; found "elsewhere"/,
      /^libraries\[1\]\.cardPatterns\[0\]: expected an anchored regular expression "\/\^\.\.\.\$\/"; found "\/2123\/"/,
      /^libraries\[1\]\.cardPatterns\[1\]: expected an anchored regular expression/,
    ];
    for (const pattern of expected)
      expect(
        list.some((p) => pattern.test(p)),
        `${pattern} in\n${list.join('\n')}`,
      ).toBe(true);
  });

  it('never prints a secret it refuses', () => {
    const { message } = problems(`
libraries: [{ id: a, name: A, authenticators: [{ kind: file, path: p }] }]
clients: [{ client_id: v, client_secret: 12345678, redirect_uris: [https://a.example/cb] }]
keys: { accountKey: 987654321 }
`);
    expect(message).not.toContain('12345678');
    expect(message).not.toContain('987654321');
    expect(message).toMatch(/clients\[0\]\.client_secret: .*not shown/);
  });

  it('reports a YAML syntax error with its line, and an unreadable file', () => {
    const { message } = problems('libraries:\n  - id: a\n   name: broken indentation\n');
    expect(message).toMatch(/line \d+/);
    expect(() => loadConfigFile(join(dir, 'missing.yaml'), { kinds: authenticatorKinds })).toThrow(
      /cannot read the file \(ENOENT\)/,
    );
  });

  it('rejects a non-numeric PORT from the environment', () => {
    const { problems: list } = problems(GOOD, { VENDOR_SECRET: 'x', PORT: 'http' });
    expect(list).toContain('PORT (environment): expected a port number; found "http"');
  });

  it('shares an authenticator defined once between libraries, as one entry', () => {
    const config = load(`
authenticators:
  - { id: county-ils, kind: file, path: data/county.yaml }
realms: [{ id: county, scope: county.example.org }]
libraries:
  - { id: north, name: North Branch, realm: county, cardPatterns: ["2100"], authenticators: [county-ils] }
  - { id: south, name: South Branch, realm: county, cardPatterns: ["2100"], authenticators: [{ kind: file, path: data/south.yaml }, county-ils] }
`).run();
    const [north, south] = config.libraries;
    expect(north?.authenticators[0]).toBe(south?.authenticators[1]);
    expect(north?.authenticators[0]).toEqual({ id: 'county-ils', kind: 'file', options: { path: 'data/county.yaml' } });
    expect(south?.authenticators[0]?.id).toBe('south-file');
    expect(north?.scope).toBe('county.example.org');
  });

  it('refuses unknown shared authenticators, duplicate ids, card patterns overlapping across realms, poor contrast and bad logos', () => {
    const { problems: list } = problems(`
authenticators:
  - { id: shared, kind: file, path: p }
libraries:
  - { id: a, name: A, realm: ra, cardPatterns: ["2123"], authenticators: [nope, { id: shared, kind: file, path: q }] }
  - { id: b, name: B, realm: rb, cardPatterns: ["21234"], authenticators: [shared] }
  - { id: c, name: C, realm: rc, cardPatterns: ["/^2123[0-9]{9}$/"], authenticators: [shared], colours: { accent: "#ffff00" } }
  - { id: d, name: D, realm: ra, cardPatterns: ["2123"], authenticators: [shared], logo: /nonexistent/logo.png, colours: { accent: "#1d4f91", accentText: "#000000" } }
  - { id: e, name: E, realm: re, cardPatterns: ["3999"], authenticators: [shared], logo: README.md }
`);
    const expected = [
      /^libraries\[0\]\.authenticators\[0\]: no shared authenticator with this id; found "nope", expected one of shared/,
      /^libraries\[0\]\.authenticators\[1\]\.id: duplicate of a shared authenticator; found "shared"/,
      /^libraries\[0\]\.cardPatterns: "2123" of library "a" \(realm "ra"\) overlaps "21234" of library "b" \(realm "rb"\): cards starting "21234" could belong to either realm; and 1 more pair of libraries in these two realms/,
      /^libraries\[0\]\.cardPatterns: "2123" of library "a" \(realm "ra"\) overlaps "\/\^2123\[0-9\]\{9\}\$\/" of library "c" \(realm "rc"\): cards such as "2123\d{9}"/,
      /^libraries\[1\]\.cardPatterns: "21234" of library "b" \(realm "rb"\) overlaps .* of library "c"/,
      /^libraries\[2\]\.colours\.accent: contrast with white is 1\.07:1, WCAG AA needs 4\.5:1; found "#ffff00"/,
      /^libraries\[3\]\.colours\.accentText: contrast with accent is /,
      /^libraries\[3\]\.logo: cannot read "\/nonexistent\/logo\.png": no such file \(ENOENT\); expected a logo file/,
      /^libraries\[4\]\.logo: found "README\.md"; expected a \.png, \.jpg or \.svg file/,
    ];
    for (const pattern of expected)
      expect(
        list.some((p) => pattern.test(p)),
        `${pattern} in\n${list.join('\n')}`,
      ).toBe(true);
    // a and d share realm ra: their identical prefixes are allowed; d's
    // overlaps with b and c are counted in the lines for a, not repeated.
    expect(list.some((p) => p.includes('library "d"'))).toBe(false);
    expect(list.filter((p) => p.includes(' overlaps '))).toHaveLength(3);
  });

  it('config/example.yaml is valid apart from the files it names on a production host', () => {
    const env = {
      PATRONYM_PIN_PEPPER: 'f'.repeat(64),
      EBOOKS_CLIENT_SECRET: 'secret',
      LDAP_SERVICE_PASSWORD: 'x',
      SIP2_PASSWORD: 'y',
    };
    try {
      loadConfigFile('config/example.yaml', { kinds: authenticatorKinds, env });
      throw new Error('expected the production paths to be missing here');
    } catch (error) {
      const list = (error as ConfigError).problems ?? [(error as Error).message];
      expect(
        list.every((p) => /ENOENT/.test(p)),
        list.join('\n'),
      ).toBe(true);
    }
  });

  it('config/demo.yaml is valid as it ships', () => {
    const config = loadConfigFile('config/demo.yaml', { kinds: authenticatorKinds, env: {}, files: false });
    expect(config.libraries.map((l) => l.id)).toEqual(['springfield']);
    // The demo's cards and PINs are public: loopback unless `host` is changed.
    expect(config.host).toBe('127.0.0.1');
    expect(config.clients.map((c) => c.client_id)).toEqual(['demo-vendor', 'demo-vendor-2', 'demo-app']);
  });
});
