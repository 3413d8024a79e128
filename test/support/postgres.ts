// A private PostgreSQL server for tests and benchmarks: initdb into a
// temporary folder, a free loopback port, pg_ctl to start and stop it.
// The server refuses to run as root, so as root every binary runs as the
// `postgres` OS user (Debian's package creates it) over a folder chowned to
// it. Durability is switched off (fsync, full_page_writes): a test database
// only has to survive a process crash, not a power cut, and initdb plus
// start take well under two seconds that way.
//
//   const pg = await startPostgres();           // one server per test file
//   const url = await pg.createDatabase();      // a fresh, empty database per test
//   await pg.dispose();
import { execFile } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './slapd.ts';
import { makeTls } from './tls.ts';

const run = promisify(execFile);
const ROOT = '/usr/lib/postgresql';

// The newest installed server's bin folder (Debian installs versions side
// by side under /usr/lib/postgresql/<major>/bin).
function binDir(): string | undefined {
  if (!existsSync(ROOT)) return undefined;
  const majors = readdirSync(ROOT)
    .filter((v) => /^\d+$/.test(v) && existsSync(join(ROOT, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return majors[0] === undefined ? undefined : join(ROOT, majors[0], 'bin');
}

const isRoot = () => process.getuid?.() === 0;

// Whether the PostgreSQL tests can run. Under CI a missing server fails the
// run loudly; locally the tests skip with a warning saying what to install.
export function postgresAvailable(): boolean {
  const missing: string[] = [];
  if (!binDir()) missing.push(`${ROOT}/<version>/bin/initdb`);
  if (isRoot() && !existsSync('/usr/sbin/runuser')) missing.push('runuser');
  if (missing.length === 0) return true;
  const message = `PostgreSQL tests need ${missing.join(', ')} (Debian: apt-get install postgresql)`;
  if (process.env.CI === 'true') throw new Error(`${message}; CI must not pass by skipping`);
  console.warn(`\n!!! SKIPPING POSTGRESQL TESTS: ${message}\n`);
  return false;
}

async function postgresUid(): Promise<{ uid: number; gid: number }> {
  const { stdout } = await run('id', ['-u', 'postgres']);
  const { stdout: g } = await run('id', ['-g', 'postgres']);
  return { uid: Number(stdout.trim()), gid: Number(g.trim()) };
}

// Runs a server binary, as `postgres` when we are root.
async function runPg(binary: string, args: string[]): Promise<string> {
  const bin = join(binDir() as string, binary);
  const [file, argv] = isRoot() ? ['/usr/sbin/runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  try {
    const { stdout } = await run(file, argv, { timeout: 60_000 });
    return stdout;
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`postgres test server: ${binary} failed: ${e.stderr?.trim() || e.message}`);
  }
}

export interface PostgresOptions {
  // TLS with a throwaway CA; the role `patronym` (password `patronym-pw`)
  // may then sign in only over TLS and with its password.
  tls?: boolean;
}

export const TLS_ROLE = { user: 'patronym', password: 'patronym-pw' } as const;

export interface Postgres {
  port: number;
  dir: string;
  // With `tls`: the CA that signed the server certificate, and one that did not.
  caFile?: string;
  wrongCaFile?: string;
  // postgres://postgres@127.0.0.1:port/<database>
  url(database?: string): string;
  // A new empty database (named, or test_<n>), owned by `owner` (default
  // the superuser); resolves with its superuser URL.
  createDatabase(name?: string, owner?: string): Promise<string>;
  // Runs SQL as the superuser in one database.
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    database: string,
    sql: string,
    params?: unknown[],
  ): Promise<R[]>;
  // `crash` is an immediate shutdown (kill -9 of the children, recovery at
  // the next start), as a machine losing power would.
  stop(options?: { crash?: boolean }): Promise<void>;
  start(): Promise<void>;
  dispose(): Promise<void>;
}

export async function startPostgres(options: PostgresOptions = {}): Promise<Postgres> {
  const dir = mkdtempSync(join(tmpdir(), 'patronym-pg-'));
  const data = join(dir, 'data');
  if (isRoot()) {
    const { uid, gid } = await postgresUid();
    chownSync(dir, uid, gid);
  }
  await runPg('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8', '-N']);
  const port = await freePort();
  const conf = [
    `port = ${port}`,
    "listen_addresses = '127.0.0.1'",
    `unix_socket_directories = '${dir}'`,
    'fsync = off',
    'full_page_writes = off',
    'max_connections = 300',
    'shared_buffers = 32MB',
    "log_min_messages = 'warning'",
  ].join('\n');
  // Appending keeps the file's owner (postgres), so no chown is needed.
  appendFileSync(join(data, 'postgresql.conf'), `\n${conf}\n`);
  const tlsDir = join(dir, 'tls');
  if (options.tls) {
    mkdirSync(tlsDir);
    makeTls(tlsDir);
    // The server refuses a key others can read, and must own it.
    chmodSync(join(tlsDir, 'server.key'), 0o600);
    if (isRoot()) {
      const { uid, gid } = await postgresUid();
      for (const f of ['', 'server.key', 'server.pem']) chownSync(join(tlsDir, f), uid, gid);
    }
    appendFileSync(
      join(data, 'postgresql.conf'),
      `ssl = on\nssl_cert_file = '${join(tlsDir, 'server.pem')}'\nssl_key_file = '${join(tlsDir, 'server.key')}'\n`,
    );
    // First match wins: the role gets TLS and a password or nothing.
    const hba = join(data, 'pg_hba.conf');
    writeFileSync(
      hba,
      `hostssl all ${TLS_ROLE.user} 127.0.0.1/32 scram-sha-256\nhost all ${TLS_ROLE.user} 127.0.0.1/32 reject\n${readFileSync(hba, 'utf8')}`,
    );
  }

  const log = join(dir, 'server.log');
  const start = async () => {
    await runPg('pg_ctl', ['-D', data, '-l', log, '-w', '-t', '60', 'start']);
  };
  const stop = async (options: { crash?: boolean } = {}) => {
    await runPg('pg_ctl', ['-D', data, '-m', options.crash ? 'immediate' : 'fast', '-w', 'stop']).catch(() => {});
  };
  await start();

  const url = (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`;
  let n = 0;
  const query = async <R extends pg.QueryResultRow>(database: string, sql: string, params: unknown[] = []) => {
    const client = new pg.Client({ connectionString: url(database) });
    await client.connect();
    try {
      return (await client.query<R>(sql, params)).rows;
    } finally {
      await client.end();
    }
  };
  if (options.tls) {
    await query('postgres', `CREATE ROLE ${TLS_ROLE.user} LOGIN PASSWORD '${TLS_ROLE.password}'`);
  }
  return {
    port,
    dir,
    ...(options.tls ? { caFile: join(tlsDir, 'ca.pem'), wrongCaFile: join(tlsDir, 'wrong-ca.pem') } : {}),
    url,
    async createDatabase(name = `test_${process.pid}_${n++}`, owner?: string) {
      await query('postgres', `CREATE DATABASE "${name}"${owner ? ` OWNER "${owner}"` : ''}`);
      return url(name);
    },
    query,
    stop,
    start,
    async dispose() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
