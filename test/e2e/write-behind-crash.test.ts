// SQLite's write-behind (src/store/sqlite.ts) against a crash: the broker
// as a sysadmin runs it (`node src/main.ts`, one process), killed with
// SIGKILL, so nothing is flushed on the way out. A crash may lose the last
// second of sign-in records; it must never bring a redeemed code back,
// whether the code was still held in memory or already in the file, and a
// graceful stop (SIGTERM) loses nothing.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { writeDemoPatrons } from '../../src/cli/commands/demo.ts';
import {
  completeLogin,
  demoConfig,
  freePort,
  removeDir,
  type StartedLogin,
  startLogin,
  submitLogin,
  type Vendor,
  vendor,
} from '../support/broker.ts';
import { TEST_PEPPER } from '../support/patrons.ts';

const CARD = '21234000000001';
const PIN = '1234';

describe('write-behind and a crash (SIGKILL)', () => {
  let dir: string;
  let issuer: string;
  let child: ChildProcess | undefined;
  let v: Vendor;

  const start = async () => {
    const proc = spawn(process.execPath, ['src/main.ts'], {
      env: { ...process.env, PATRONYM_CONFIG: join(dir, 'config.yaml') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    proc.stdout?.on('data', (d) => {
      output += d;
    });
    proc.stderr?.on('data', (d) => {
      output += d;
    });
    for (let i = 0; i < 200 && !output.includes('"event":"start"'); i++) {
      if (proc.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(output).toContain('"event":"start"');
    child = proc;
  };
  const stop = async (signal: NodeJS.Signals) => {
    const proc = child;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill(signal);
    await exited;
    child = undefined;
  };
  // A sign-in up to the code at the vendor's callback.
  const code = async (): Promise<{ started: StartedLogin; callback: string }> => {
    const started = await startLogin(v, issuer);
    const done = await submitLogin(started, issuer, CARD, PIN);
    expect(done.leftFor).toMatch(/code=/);
    return { started, callback: done.leftFor as string };
  };
  const replayRefused = async (started: StartedLogin, callback: string) => {
    const error = await completeLogin(v, started, callback).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(oidc.ResponseBodyError);
    expect((error as oidc.ResponseBodyError).error).toBe('invalid_grant');
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'patronym-crash-'));
    const port = await freePort();
    issuer = `http://127.0.0.1:${port}`;
    const config = demoConfig(dir, port);
    writeFileSync(
      join(dir, 'config.yaml'),
      stringify({
        ...config,
        host: '127.0.0.1',
        log: { level: 'info' },
        keys: { dir: join(dir, 'keys'), pinPepper: TEST_PEPPER.toString('hex') },
      }),
    );
    await writeDemoPatrons(join(dir, 'data', 'demo-patrons.yaml'), TEST_PEPPER);
    await start();
    v = await vendor(issuer, 'demo-vendor', 'demo-vendor-secret');
  }, 30_000);
  afterAll(async () => {
    await stop('SIGTERM');
    removeDir(dir);
  });

  it('a code redeemed while still held in memory: gone after the crash, not redeemable again', async () => {
    const { started, callback } = await code();
    await completeLogin(v, started, callback);
    await stop('SIGKILL');
    await start();
    await replayRefused(started, callback);
  }, 30_000);

  it('a code already in the file, redeemed just before the crash: the redemption was written at once', async () => {
    const { started, callback } = await code();
    // Past the write-behind's second: the unredeemed code is in the file.
    await new Promise((r) => setTimeout(r, 1500));
    await completeLogin(v, started, callback);
    await stop('SIGKILL');
    await start();
    await replayRefused(started, callback);
  }, 30_000);

  it('a graceful stop writes what was held: tokens issued just before SIGTERM still work after the restart', async () => {
    const { started, callback } = await code();
    const tokens = await completeLogin(v, started, callback);
    await stop('SIGTERM');
    await start();
    const claims = await oidc.fetchUserInfo(v.config, tokens.access_token, tokens.claims()?.sub as string);
    expect(claims.sub).toBe(tokens.claims()?.sub);
    await replayRefused(started, callback);
  }, 30_000);

  it('a crash loses at most the last second: tokens issued just before SIGKILL no longer work', async () => {
    const { started, callback } = await code();
    const tokens = await completeLogin(v, started, callback);
    await stop('SIGKILL');
    await start();
    const error = await oidc.fetchUserInfo(v.config, tokens.access_token, tokens.claims()?.sub as string).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeDefined();
  }, 30_000);
});
