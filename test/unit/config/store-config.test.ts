// The store section: the postgres kind, its password secret and the
// PATRONYM_STORE_URL override.
import { describe, expect, it } from 'vitest';
import { authenticatorKinds } from '../../../src/auth/registry.ts';
import { ConfigError, parseConfig } from '../../../src/config/load.ts';

const base = {
  libraries: [{ id: 'springfield', name: 'Springfield', authenticators: [{ kind: 'file', path: 'p.yaml' }] }],
};
const parse = (store: unknown, env: NodeJS.ProcessEnv = {}) =>
  parseConfig({ ...base, ...(store === undefined ? {} : { store }) }, 'test.yaml', {
    kinds: authenticatorKinds,
    env,
    files: false,
  });

describe('store configuration', () => {
  it('fills in the postgres defaults and reads the password secret', () => {
    const config = parse(
      { kind: 'postgres', url: 'postgres://patronym@db.example:5432/patronym', password: { env: 'PGPASS' } },
      { PGPASS: 'hunter2' },
    );
    expect(config.store).toEqual({
      kind: 'postgres',
      url: 'postgres://patronym@db.example:5432/patronym',
      password: 'hunter2',
      poolSize: 10,
    });
  });

  it('PATRONYM_STORE_URL overrides the URL, keeping the file’s other postgres settings', () => {
    const env = { PATRONYM_STORE_URL: 'postgres://other@db2/patronym' };
    expect(parse({ kind: 'postgres', url: 'postgres://a@b/c', poolSize: 3 }, env).store).toEqual({
      kind: 'postgres',
      url: 'postgres://other@db2/patronym',
      poolSize: 3,
    });
    // and selects postgres over a file that names SQLite (a container's way)
    expect(parse(undefined, env).store).toEqual({
      kind: 'postgres',
      url: 'postgres://other@db2/patronym',
      poolSize: 10,
    });
  });

  it('reports a bad URL, a missing password variable and unknown keys, all at once', () => {
    try {
      parse({ kind: 'postgres', url: 'mysql://x', poolSize: 0, tls: { verify: true } });
      throw new Error('expected a ConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const text = (error as ConfigError).problems.join('\n');
      expect(text).toMatch(/store\.url/);
      expect(text).toMatch(/store\.poolSize/);
      expect(text).toMatch(/store\.tls/);
    }
    expect(() => parse({ kind: 'postgres', url: 'postgres://a@b/c', password: { env: 'NOPE' } })).toThrow(
      /store\.password: environment variable "NOPE" is not set/,
    );
  });
});
