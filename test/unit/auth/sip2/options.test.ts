import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sip2OptionsSchema } from '../../../../src/auth/sip2/options.ts';
import { Sip2Authenticator } from '../../../../src/auth/sip2/sip2-authenticator.ts';
import { ConfigError, parseConfig } from '../../../../src/config/load.ts';

const dir = mkdtempSync(join(tmpdir(), 'patronym-sip2-options-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function problems(options: Record<string, unknown>): string[] {
  const raw = { libraries: [{ id: 'lib', name: 'Lib', authenticators: [{ kind: 'sip2', ...options }] }] };
  try {
    parseConfig(raw, 'test.yaml', { kinds: { sip2: sip2OptionsSchema }, env: {} });
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
}

const at = 'libraries[0].authenticators[0]';

describe('sip2 options', () => {
  it('has documented, safe defaults', () => {
    const o = sip2OptionsSchema.parse({ servers: [{ host: 'ils.example.org', tls: {} }] });
    expect(o).toMatchObject({
      servers: [{ host: 'ils.example.org', port: 6001, tls: { rejectUnauthorized: true }, allowInsecure: false }],
      institution: '',
      message: '63',
      language: '001',
      errorDetection: true,
      encoding: 'utf-8',
      scStatus: true,
      endSession: false,
      poolSize: 4,
      connectTimeout: 5,
      timeout: 5,
      retries: 1,
      keepAlive: 25,
      clearLastReply: true,
      verifyPatronId: true,
      attributes: {},
      blocking: { flags: ['charge-privileges-denied', 'card-reported-lost'], feesOverLimit: false },
      expiry: { formats: ['YYYYMMDDZZZZHHmmss', 'YYYYMMDD', 'YYYY-MM-DD', 'MM/DD/YYYY'] },
    });
    expect(o.stableIdField).toBeUndefined();
    expect(o.expiry.field).toBeUndefined();
  });

  it('documents every key', () => {
    const undocumented: string[] = [];
    type Node = { description?: string; shape?: Record<string, Node>; element?: Node; unwrap?: () => Node };
    const inner = (n: Node): Node => (n.unwrap ? inner(n.unwrap()) : n.element ? inner(n.element) : n);
    const walk = (schema: Node, path: string) => {
      for (const [key, child] of Object.entries(inner(schema).shape ?? {})) {
        if (!child.description) undocumented.push(`${path}${key}`);
        walk(child, `${path}${key}.`);
      }
    };
    walk(sip2OptionsSchema as unknown as Node, '');
    expect(undocumented).toEqual([]);
  });

  it('accepts the message type as a number, as YAML writes it', () => {
    expect(sip2OptionsSchema.parse({ servers: [{ host: 'h', tls: {} }], message: 23 }).message).toBe('23');
  });

  it('refuses plain TCP unless allowInsecure is set, with a dotted path', () => {
    expect(problems({ servers: [{ host: 'h' }] })).toEqual([
      `${at}.servers[0].tls: plain TCP sends card numbers and PINs in clear: add \`tls\`, or set \`allowInsecure: true\` on a trusted network; found nothing`,
    ]);
    expect(problems({ servers: [{ host: 'h', allowInsecure: true }] })).toEqual([]);
  });

  it('reports every problem at once', () => {
    const found = problems({
      servers: [{ host: 'h', port: 70000, tls: { cert: 'c.pem' } }],
      institution: 'a|b',
      message: '64',
      encoding: 'ebcdic',
      stableIdField: 'xi',
      blocking: { flags: ['lost'], afPattern: '(' },
      expiry: { formats: ['DD/MM'] },
      login: { user: 'u' },
    }).join('\n');
    for (const expected of [
      `${at}.servers[0].port`,
      `${at}.servers[0].tls.key: \`cert\` and \`key\` go together`,
      `${at}.institution: no "|" and no control characters`,
      `${at}.message`,
      `${at}.encoding`,
      `${at}.stableIdField: a two-character SIP2 field tag`,
      `${at}.blocking.flags[0]`,
      `${at}.blocking.afPattern: a valid regular expression`,
      `${at}.expiry.formats[0]: a date format with YYYY, MM and DD`,
      `${at}.login.password`,
    ]) {
      expect(found).toContain(expected);
    }
  });

  it('never shows a secret value in a problem', () => {
    const found = problems({
      servers: [{ host: 'h', allowInsecure: true }],
      terminalPassword: 42,
      login: { user: 'u', password: 99 },
    });
    expect(found.join('\n')).not.toMatch(/42|99/);
  });
});

describe('sip2 authenticator construction', () => {
  const base = { servers: [{ host: '127.0.0.1', port: 1, allowInsecure: true }] };

  it('warns at start-up about plain TCP and about unverified certificates', () => {
    const warnings: string[] = [];
    const o = sip2OptionsSchema.parse({
      servers: [...base.servers, { host: 'ils.example.org', tls: { rejectUnauthorized: false } }],
    });
    new Sip2Authenticator('lib-sip2', o, { warn: (m) => warnings.push(m) });
    expect(warnings).toEqual([
      'sip2: "lib-sip2" talks to 127.0.0.1:1 over plain TCP (allowInsecure): card numbers and PINs cross the network in clear',
      'sip2: "lib-sip2" does not verify the certificate of ils.example.org:6001 (tls.rejectUnauthorized false)',
    ]);
  });

  it('resolves secrets from the environment and files', async () => {
    const file = join(dir, 'terminal');
    writeFileSync(file, 'from-file\n');
    const o = sip2OptionsSchema.parse({
      ...base,
      terminalPassword: { file },
      login: { user: 'u', password: { env: 'SIP_PW' } },
    });
    expect(() => new Sip2Authenticator('a', o, { env: {} })).toThrow(
      'sip2: "a" login.password: environment variable "SIP_PW" is not set',
    );
    const a = new Sip2Authenticator('a', o, { env: { SIP_PW: 'pw' } });
    await a.close();
  });

  it('refuses a secret SIP2 cannot carry, without showing it', () => {
    const o = sip2OptionsSchema.parse({ ...base, terminalPassword: { env: 'T' } });
    expect(() => new Sip2Authenticator('a', o, { env: { T: 'se|cret' } })).toThrow(
      'sip2: "a" terminalPassword cannot be sent over SIP2 (delimiter)',
    );
  });

  it('names an unreadable certificate file', () => {
    const o = sip2OptionsSchema.parse({ servers: [{ host: 'h', tls: { ca: join(dir, 'missing.pem') } }] });
    expect(() => new Sip2Authenticator('a', o)).toThrow(
      `sip2: cannot read tls.ca "${join(dir, 'missing.pem')}" (ENOENT)`,
    );
  });
});
