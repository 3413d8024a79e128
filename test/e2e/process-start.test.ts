// Issue 15: the failures a sysadmin meets first say what happened and what
// to do in one line, with no stack: a busy port, an old Node, the demo
// vendor before the broker; a first start says where the keys went, and
// every start names the pid to reload.
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeVersionProblem } from '../../bin/node-version.mjs';
import { writeDemoPatrons } from '../../src/cli/commands/demo.ts';
import { removeDir } from '../support/broker.ts';
import { TEST_PEPPER } from '../support/patrons.ts';

const dir = mkdtempSync(join(tmpdir(), 'patronym-start-'));
afterAll(() => removeDir(dir));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}
const run = (args: string[], env: NodeJS.ProcessEnv, node = process.execPath): Promise<Run> =>
  new Promise((resolve) => {
    execFile(node, args, { env: { ...process.env, ...env }, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }),
    );
  });

const listening = async (): Promise<Server> => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
};
const portOf = (server: Server) => (server.address() as { port: number }).port;
const NO_STACK = /^\s+at .*:\d+:\d+\)?$/m;

async function configWith(name: string, port: number, keys: string): Promise<string> {
  await writeDemoPatrons(join(dir, 'patrons.yaml'), TEST_PEPPER);
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `issuer: http://127.0.0.1:${port}
port: ${port}
host: 127.0.0.1
store: { kind: sqlite, path: ${join(dir, `${name}.sqlite`)} }
keys: { dir: ${keys} }
libraries:
  - { id: springfield, name: Springfield, authenticators: [{ kind: file, path: ${join(dir, 'patrons.yaml')} }] }
`,
  );
  return file;
}

describe('friendly failures at start', () => {
  it('a busy port: one line naming the port and the way out, exit 1, no stack', async () => {
    const busy = await listening();
    try {
      const port = portOf(busy);
      const config = await configWith('busy', port, join(dir, 'keys-busy'));
      const { code, stderr } = await run(['bin/patronym.mjs', 'serve'], { PATRONYM_CONFIG: config, PORT: '' });
      expect(code).toBe(1);
      expect(stderr).toContain(`patronym: cannot start: port ${port} on 127.0.0.1 is already in use (EADDRINUSE)`);
      expect(stderr).toContain('PORT');
      expect(stderr).not.toMatch(NO_STACK);
    } finally {
      busy.close();
    }
  });

  it('the Node version check says what to install (fake versions)', () => {
    for (const old of ['20.11.0', '22.12.0', '22.17.1', '23.5.0', '18.20.4'])
      expect(nodeVersionProblem(old, '/usr/bin/node')).toMatch(
        new RegExp(
          `^patronym: needs Node\\.js 22\\.18 or later.*found Node\\.js ${old.replace(/\./g, '\\.')} \\(/usr/bin/node\\)`,
        ),
      );
    for (const good of ['22.18.0', '22.23.3', '23.6.0', '24.0.0', '25.1.0'])
      expect(nodeVersionProblem(good)).toBeUndefined();
  });

  it('an old Node running `patronym` gets that one line, not ERR_UNKNOWN_FILE_EXTENSION', async (context) => {
    // Debian's node, where it is older than 22.18, is the real thing.
    let version = '';
    try {
      version = execFileSync('/usr/bin/node', ['--version'], { encoding: 'utf8' }).trim().slice(1);
    } catch {}
    if (!version || nodeVersionProblem(version) === undefined) {
      if (process.env.CI === 'true') throw new Error('CI needs an old /usr/bin/node for this test');
      console.warn(`skipped: no Node older than 22.18 at /usr/bin/node (found "${version}")`);
      context.skip();
    }
    const { code, stderr } = await run(['bin/patronym.mjs', 'check'], {}, '/usr/bin/node');
    expect(code).toBe(1);
    expect(stderr.trim()).toBe(nodeVersionProblem(version, '/usr/bin/node'));
  });

  it('package.json asks for the Node that runs TypeScript and names the launcher as its bin', async () => {
    const pkg = (await import('../../package.json', { with: { type: 'json' } })).default as {
      engines: { node: string };
      bin: Record<string, string>;
      scripts: Record<string, string>;
    };
    expect(pkg.engines.node).toBe('>=22.18');
    expect(pkg.bin.patronym).toBe('bin/patronym.mjs');
    expect(pkg.scripts.start).toBe('node bin/patronym.mjs serve');
  });

  it('the demo vendor before the broker: one line saying to start it; demo-app is a known client', async () => {
    const free = await listening();
    const port = portOf(free);
    await new Promise((resolve) => free.close(resolve));
    for (const client of ['demo-vendor', 'demo-app']) {
      const { code, stderr } = await run(['bin/patronym.mjs', 'demo', 'vendor'], {
        ISSUER: `http://127.0.0.1:${port}`,
        DEMO_CLIENT: client,
      });
      expect(code).toBe(1);
      expect(stderr.trim()).toBe(
        `demo vendor: the broker at http://127.0.0.1:${port} is not answering (ECONNREFUSED): start it first with \`npm start\` (or set ISSUER to where it runs)`,
      );
    }
    const unknown = await run(['bin/patronym.mjs', 'demo', 'vendor'], { DEMO_CLIENT: 'nope' });
    expect(unknown.stderr.trim()).toBe(
      'demo vendor: unknown DEMO_CLIENT "nope"; expected one of demo-vendor, demo-vendor-2, demo-app',
    );
  });

  it('a first start says where the keys were written and to back them up; every start logs its pid', async () => {
    const keys = join(dir, 'keys-first');
    const server = await listening();
    const port = portOf(server);
    await new Promise((resolve) => server.close(resolve));
    const config = await configWith('first', port, keys);
    const start = async () => {
      const child = execFile(process.execPath, ['bin/patronym.mjs', 'serve'], {
        env: { ...process.env, PATRONYM_CONFIG: config, PORT: '' },
      });
      let output = '';
      child.stdout?.on('data', (d) => {
        output += d;
      });
      child.stderr?.on('data', (d) => {
        output += d;
      });
      for (let i = 0; i < 300 && !output.includes('"event":"start"'); i++) await new Promise((r) => setTimeout(r, 100));
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      return { output, pid: child.pid };
    };
    const first = await start();
    expect(first.output).toContain(
      `patronym: generated new keys in ${keys}/ (signing.jwks.json, cookies.json, pseudonym.json, pin-pepper): back them up now`,
    );
    expect(first.output).toContain('without pseudonym.json every patron gets new pseudonyms at every vendor');
    // The launcher imports the broker in its own process: the pid logged is the one to signal.
    expect(first.output).toContain(`"pid":${first.pid}`);
    expect(first.output).toContain(`kill -HUP ${first.pid}`);
    const second = await start();
    expect(second.output).toContain('"event":"start"');
    expect(second.output).not.toContain('generated new keys');
  });

  it('npm start on a fresh checkout says the keys were generated (its demo init step creates them)', async () => {
    const fresh = join(dir, 'fresh-checkout');
    mkdirSync(join(fresh, 'config'), { recursive: true });
    copyFileSync('config/demo.yaml', join(fresh, 'config', 'demo.yaml'));
    const { PATRONYM_CONFIG: _config, ...env } = process.env;
    const init = () =>
      new Promise<string>((resolve) => {
        execFile(
          process.execPath,
          [join(process.cwd(), 'bin/patronym.mjs'), 'demo', 'init'],
          { cwd: fresh, env },
          (_error, stdout, stderr) => resolve(stdout + stderr),
        );
      });
    const first = await init();
    expect(first).toContain('patronym: generated new keys in keys/');
    expect(first).toContain('back them up now');
    expect(first).toContain('wrote the demo patron file');
    expect(await init()).not.toContain('generated new keys');
  });
});
