// The broker as a sysadmin runs it: `node src/main.ts`, a configuration
// file, SIGHUP to reload it, SIGTERM to stop.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDemoPatrons } from '../../src/cli/commands/demo.ts';
import { removeDir } from '../support/broker.ts';
import { TEST_PEPPER } from '../support/patrons.ts';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('the broker process', () => {
  let dir: string;
  let port: number;
  let child: ChildProcess;
  let output = '';
  const config = (extra = '') => `issuer: http://127.0.0.1:${port}
port: ${port}
host: 127.0.0.1
store: { kind: sqlite, path: ${dir}/data/patronym.sqlite }
keys: { dir: ${dir}/keys, pinPepper: ${TEST_PEPPER.toString('hex')} }
privacyPage: ${dir}/privacy.eta
libraries:
  - { id: springfield, name: Springfield Public Library, authenticators: [{ kind: file, path: ${dir}/patrons.yaml }] }
${extra}
clients: [{ client_id: v, client_secret: s, redirect_uris: [http://127.0.0.1:9/cb] }]
`;
  const waitFor = async (text: string, from = 0) => {
    for (let i = 0; i < 100 && !output.slice(from).includes(text); i++) await new Promise((r) => setTimeout(r, 100));
    expect(output.slice(from)).toContain(text);
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'patronym-process-'));
    port = await freePort();
    await writeDemoPatrons(join(dir, 'patrons.yaml'), TEST_PEPPER);
    writeFileSync(
      join(dir, 'privacy.eta'),
      '<!doctype html><title>Our privacy</title><p>Kept <%= it.retention.releaseLog %> days at Springfield.</p>\n',
    );
    writeFileSync(join(dir, 'config.yaml'), config());
    child = spawn(process.execPath, ['src/main.ts'], {
      env: { ...process.env, PATRONYM_CONFIG: join(dir, 'config.yaml') },
    });
    child.stdout?.on('data', (d) => {
      output += d;
    });
    child.stderr?.on('data', (d) => {
      output += d;
    });
    await waitFor('"event":"start"');
  });
  afterAll(async () => {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    removeDir(dir);
  });

  it('serves the library’s own privacy notice from its template', async () => {
    const page = await (await fetch(`http://127.0.0.1:${port}/privacy`)).text();
    expect(page).toContain('Kept 180 days at Springfield.');
  });

  it('reloads on SIGHUP: a broken file is refused and logged, a good one takes effect', async () => {
    const hint = (id: string) =>
      fetch(
        `http://127.0.0.1:${port}/auth?client_id=v&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb&response_type=code&scope=openid&library=${id}`,
        {
          redirect: 'manual',
        },
      );
    expect((await hint('shelbyville')).status).toBe(303);
    let mark = output.length;
    writeFileSync(join(dir, 'config.yaml'), 'libraries: [ {');
    child.kill('SIGHUP');
    await waitFor('reload refused', mark);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);

    mark = output.length;
    writeFileSync(
      join(dir, 'config.yaml'),
      config(
        `  - { id: shelbyville, name: Shelbyville Library, authenticators: [{ kind: file, path: ${dir}/patrons.yaml }] }`,
      ),
    );
    child.kill('SIGHUP');
    await waitFor('config: reloaded', mark);
    const started = await hint('shelbyville');
    const interaction = await fetch(new URL(started.headers.get('location') as string, `http://127.0.0.1:${port}`), {
      headers: {
        cookie: started.headers
          .getSetCookie()
          .map((c) => c.split(';')[0])
          .join('; '),
      },
    });
    expect(await interaction.text()).toContain('Shelbyville Library');
  });

  it('writes logs as JSON lines that name no card', () => {
    const lines = output.split('\n').filter((l) => l.startsWith('{'));
    expect(lines.length).toBeGreaterThan(2);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(output).not.toContain('21234000000001');
    expect(readFileSync(join(dir, 'config.yaml'), 'utf8')).toContain('shelbyville');
  });
});
