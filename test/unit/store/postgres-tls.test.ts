// The postgres store over TLS with a password, as a library's database
// server would require: the CA is verified, the password comes from the
// configuration's secret, and a wrong CA, a wrong password or no TLS at all
// stop the broker at start with a message that names no password.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticatorKinds } from '../../../src/auth/registry.ts';
import { parseConfig } from '../../../src/config/load.ts';
import { PostgresStore } from '../../../src/store/postgres.ts';
import { connectStore } from '../../../src/store/registry.ts';
import { TEST_PEPPER_HEX, writePatrons } from '../../support/patrons.ts';
import { type Postgres, postgresAvailable, startPostgres, TLS_ROLE } from '../../support/postgres.ts';

const available = postgresAvailable();

describe.runIf(available)('postgres store over TLS with a password', () => {
  let server: Postgres;
  let url: string;
  const dir = mkdtempSync(join(tmpdir(), 'patronym-pg-tls-'));
  beforeAll(async () => {
    server = await startPostgres({ tls: true });
    const database = new URL(await server.createDatabase(undefined, TLS_ROLE.user)).pathname;
    url = `postgres://${TLS_ROLE.user}@127.0.0.1:${server.port}${database}`;
  }, 60_000);
  afterAll(async () => {
    await server?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('connects with the CA and a password from a secret file, through the configuration', async () => {
    const secret = join(dir, 'db-password');
    writeFileSync(secret, `${TLS_ROLE.password}\n`, { mode: 0o600 });
    // The loader reads every file the configuration names before it starts.
    const patrons = join(dir, 'patrons.yaml');
    await writePatrons(patrons, []);
    const config = parseConfig(
      {
        keys: { dir: join(dir, 'keys'), pinPepper: TEST_PEPPER_HEX },
        libraries: [{ id: 'l', name: 'L', authenticators: [{ kind: 'file', path: patrons }] }],
        store: { kind: 'postgres', url, password: { file: secret }, tls: { ca: server.caFile } },
      },
      'test.yaml',
      { kinds: authenticatorKinds, env: {} },
    );
    const store = await connectStore(config.store);
    await store.upsert('Account', 'a', { realm: 'r' });
    expect(await store.find('Account', 'a')).toEqual({ realm: 'r' });
    const [row] = await server.query<{ ssl: boolean }>(
      'postgres',
      `SELECT bool_and(ssl) AS ssl FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) WHERE usename = $1`,
      [TLS_ROLE.user],
    );
    expect(row?.ssl).toBe(true);
    await store.close();
  });

  const refused = async (options: ConstructorParameters<typeof PostgresStore>[0]) => {
    const store = new PostgresStore(options);
    const error = await store.ready().then(
      () => undefined,
      (e: unknown) => e as Error & { code?: string; cause?: Error },
    );
    await store.close();
    return error;
  };

  it('refuses a server whose certificate the CA did not sign', async () => {
    const error = await refused({ url, password: TLS_ROLE.password, tls: { ca: server.wrongCaFile as string } });
    expect(error?.code).toBe('store_unavailable');
    expect(error?.cause?.message).toMatch(/certificate/);
  });

  it('is refused without TLS and with a wrong password, and never says the password', async () => {
    const plain = await refused({ url, password: TLS_ROLE.password });
    expect(plain?.cause?.message).toMatch(/pg_hba\.conf rejects/);
    const wrong = await refused({ url, password: 'not-it', tls: { ca: server.caFile as string } });
    expect(wrong?.cause?.message).toMatch(/password authentication failed/);
    const withPassword = await refused({
      url: url.replace(`${TLS_ROLE.user}@`, `${TLS_ROLE.user}:hunter2@`),
      tls: { ca: server.caFile as string },
    });
    expect(withPassword?.message).not.toContain('hunter2');
    expect(withPassword?.message).toContain('***');
  });
});
