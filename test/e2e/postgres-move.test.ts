// Moving up: a library that outgrew one machine copies its SQLite store to
// PostgreSQL with `patronym store copy` and starts the broker on it. Its
// patrons keep their pseudonyms (a reset one stays reset), their privacy
// page keeps its record of vendors, and a copy never lands on a database
// that already holds records unless asked to.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveAccountId } from '../../src/pseudonym/derive.ts';
import {
  CookieJar,
  follow,
  formField,
  login,
  type RunningBroker,
  type StartedLogin,
  submitLogin,
  vendor,
} from '../support/broker.ts';
import { type Postgres, postgresAvailable, startPostgres } from '../support/postgres.ts';
import { useBroker } from '../support/use-broker.ts';

const run = promisify(execFile);
const available = postgresAvailable();
const PATRON = { card: '21234000000001', pin: '1234', id: 'demo-patron-0001' };

async function resetPseudonym(b: RunningBroker, vendorId: string): Promise<void> {
  const jar = new CookieJar();
  const first = await follow(jar, b.issuer, `${b.issuer}/account`);
  const started: StartedLogin = { jar, loginPage: first.body, loginUrl: first.url, verifier: '', state: '', nonce: '' };
  await submitLogin(started, b.issuer, PATRON.card, PATRON.pin);
  const confirm = await follow(jar, b.issuer, `${b.issuer}/account/confirm?action=reset&vendor=${vendorId}`);
  expect(confirm.response.status).toBe(200);
  const done = await follow(jar, b.issuer, `${b.issuer}/account/reset`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf: formField(confirm.body, 'csrf') ?? '', vendor: vendorId }).toString(),
  });
  expect(done.response.status).toBeLessThan(400);
}

const copy = (...args: string[]) =>
  run(process.execPath, ['src/cli/main.ts', 'store', 'copy', ...args], { env: { ...process.env } }).then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
  );

const sub = async (b: RunningBroker, clientId: string) => {
  const v = await vendor(b.issuer, clientId, 'demo-vendor-secret');
  return String((await login(v, b.issuer, PATRON.card, PATRON.pin)).tokens.claims()?.sub);
};

describe.runIf(available)('moving from SQLite to PostgreSQL', () => {
  let server: Postgres;
  let url: string;
  beforeAll(async () => {
    server = await startPostgres();
    url = await server.createDatabase();
  }, 60_000);
  afterAll(async () => {
    await server?.dispose();
  });
  // Starts on SQLite; the first test moves it to PostgreSQL.
  const b = useBroker();

  it('keeps every pseudonym, a reset one too, and the patron’s record of vendors', async () => {
    const accountId = deriveAccountId(b.keys.accountKey, 'springfield', PATRON.id);
    const original = await sub(b, 'demo-vendor');
    await resetPseudonym(b, 'demo-vendor');
    const reset = await sub(b, 'demo-vendor');
    expect(reset).not.toBe(original);
    const other = await sub(b, 'demo-vendor-2');
    const records = (await b.store.findByAccount(accountId)).map((r) => r.model).sort();
    await b.stop();

    const sqlite = `sqlite:${join(b.dir, 'data', 'patronym.sqlite')}`;
    const copied = await copy('--from', sqlite, '--to', url);
    expect(copied.code).toBe(0);
    expect(copied.out).toMatch(/^store copy: \d+ record\(s\) from sqlite:.* to postgres:\/\/.*\(.*Account \d+.*\)/m);

    await b.start({ config: { store: { kind: 'postgres', url } } });
    expect(b.store.kind).toBe('postgres');
    // Everything the patron had, there: sessions, grants, their release log, …
    expect((await b.store.findByAccount(accountId)).map((r) => r.model).sort()).toEqual(records);
    expect(await sub(b, 'demo-vendor')).toBe(reset);
    expect(await sub(b, 'demo-vendor-2')).toBe(other);
  });

  it('refuses to copy into a database that holds records, unless --force', async () => {
    const sqlite = `sqlite:${join(b.dir, 'data', 'patronym.sqlite')}`;
    const refused = await copy('--from', sqlite, '--to', url);
    expect(refused.code).toBe(1);
    expect(refused.out).toMatch(/already holds records; add --force/);
    const forced = await copy('--from', sqlite, '--to', url, '--force');
    expect(forced.code).toBe(0);
    const wrong = await copy('--from', 'mysql://x', '--to', url);
    expect(wrong.out).toMatch(/not a store location: "mysql:\/\/x"/);
  });
});
