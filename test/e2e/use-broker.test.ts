// The useBroker() fixture itself: it must never leak a broker or a folder,
// not even from a block whose test failed, and must refuse to be read before
// its hook ran rather than hand out undefined.
import { existsSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type BrokerHandle, useBroker, withBroker } from '../support/use-broker.ts';

// Whether anything still accepts connections on the port.
const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

describe('useBroker()', () => {
  const seen: { dir: string; port: number }[] = [];
  let earlyError: unknown;

  describe('a block whose test fails', () => {
    const b = useBroker();
    try {
      void b.issuer;
    } catch (error) {
      earlyError = error;
    }
    it.fails('fails after the broker is up', async () => {
      seen.push({ dir: b.dir, port: b.port });
      expect(existsSync(join(b.dir, 'keys'))).toBe(true);
      expect((await fetch(`${b.issuer}/.well-known/openid-configuration`)).status).toBe(200);
      throw new Error('this test fails on purpose');
    });
  });

  it('refused to be read while the block was collected, before its beforeAll', () => {
    expect(String(earlyError)).toMatch(/useBroker: no broker yet/);
  });

  it('stopped that broker and removed its folder in the block’s afterAll', async () => {
    const [first] = seen;
    expect(first).toBeDefined();
    if (!first) return;
    expect(existsSync(first.dir)).toBe(false);
    expect(await listening(first.port)).toBe(false);
  });

  describe('options computed after another fixture started', () => {
    let fromEarlierHook = '';
    beforeAll(() => {
      fromEarlierHook = 'Computed Vendor';
    });
    const b = useBroker(({ dir, port }) => {
      writeFileSync(join(dir, 'marker'), String(port));
      return {
        config: {
          clients: [
            {
              client_id: 'v',
              client_name: fromEarlierHook,
              client_secret: 's',
              redirect_uris: ['http://127.0.0.1:9/cb'],
            },
          ],
        },
      };
    });

    it('sees the earlier hook’s value, its folder and its port', () => {
      seen.push({ dir: b.dir, port: b.port });
      expect(b.config.clients.map((c) => c.client_name)).toEqual(['Computed Vendor']);
      expect(b.issuer).toBe(`http://127.0.0.1:${b.port}`);
    });

    it('restarts in the same folder on the same port, with the store carried over', async () => {
      const before = { dir: b.dir, issuer: b.issuer, accountKey: b.keys.accountKey.toString('hex') };
      await b.store.upsert('Session', 'kept-across-restart', { kind: 'Session' } as never, 3600);
      await b.stop();
      expect(() => b.issuer).toThrow(/the broker is stopped/);
      expect(existsSync(join(before.dir, 'marker'))).toBe(true);
      await b.start();
      expect({ dir: b.dir, issuer: b.issuer, accountKey: b.keys.accountKey.toString('hex') }).toEqual(before);
      expect(await b.store.find('Session', 'kept-across-restart')).toBeDefined();
      await b.restart();
      expect((await fetch(`${b.issuer}/.well-known/openid-configuration`)).status).toBe(200);
    });
  });

  it('removed the folder of a restarted broker too', async () => {
    const second = seen[1];
    expect(second).toBeDefined();
    if (!second) return;
    expect(existsSync(second.dir)).toBe(false);
    expect(await listening(second.port)).toBe(false);
  });

  describe('per test', () => {
    const b: BrokerHandle = useBroker({}, { per: 'test' });
    const dirs: string[] = [];
    it('gives the first test a broker', () => {
      dirs.push(b.dir);
      expect(existsSync(b.dir)).toBe(true);
    });
    it('and the next a fresh one, the first gone', () => {
      expect(b.dir).not.toBe(dirs[0]);
      expect(existsSync(dirs[0] as string)).toBe(false);
    });
  });

  it('withBroker() stops and removes its broker when the function throws', async () => {
    let place = { dir: '', port: 0 };
    await expect(
      withBroker({}, async (w) => {
        place = { dir: w.dir, port: w.port };
        throw new Error('inside');
      }),
    ).rejects.toThrow('inside');
    expect(place.dir).not.toBe('');
    expect(existsSync(place.dir)).toBe(false);
    expect(await listening(place.port)).toBe(false);
  });
});
