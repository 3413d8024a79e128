// The bench's count of CPU per step of a sign-in (bench/steps.ts): requests
// are filed under their step, and only those that ran alone count.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { countSteps, STEPS, stepsPerSignIn } from '../../../bench/steps.ts';

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

// A server whose requests to /slow wait `release` before answering.
async function start(): Promise<{ port: number; release: () => void; read: ReturnType<typeof countSteps> }> {
  let waiting: (() => void)[] = [];
  server = createServer((req, res) => {
    if (req.url?.startsWith('/slow')) waiting.push(() => res.end('ok'));
    else res.end('ok');
  });
  const read = countSteps(server);
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const release = () => {
    for (const answer of waiting) answer();
    waiting = [];
  };
  return { port: (server.address() as AddressInfo).port, release, read };
}

const send = (port: number, method: string, path: string) =>
  new Promise<void>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent: false }, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
    req.end();
  });

describe('bench: CPU per step of a sign-in', () => {
  it('files each request under its step, whatever its uid or query', async () => {
    const { port, read } = await start();
    await send(port, 'GET', '/auth?client_id=x');
    await send(port, 'GET', '/auth/abc');
    await send(port, 'GET', '/interaction/abc');
    await send(port, 'POST', '/interaction/abc/login');
    await send(port, 'POST', '/interaction/def');
    await send(port, 'POST', '/token');
    const counts = read();
    expect(Object.fromEntries(Object.entries(counts).map(([k, [n]]) => [k, n]))).toEqual({
      'GET /auth': 1,
      'GET /auth/*': 1,
      'GET /interaction/*': 1,
      'POST /interaction/*': 2,
      'POST /token': 1,
    });
    // Every step the generator makes has a name.
    for (const key of Object.keys(counts)) expect(STEPS.map(([k]) => k)).toContain(key);
  });

  it('leaves out requests that overlapped another (each would be charged the other’s CPU)', async () => {
    const { port, release, read } = await start();
    const both = Promise.all([send(port, 'GET', '/slow/1'), send(port, 'GET', '/slow/2')]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    release();
    await both;
    await send(port, 'GET', '/me');
    expect(read()).toEqual({ 'GET /me': [1, expect.any(Number)] });
  });

  it('gives ms per sign-in by step, and the rest of the CPU as between requests', () => {
    const before = { 'GET /auth': [10, 5_000] as [number, number] };
    const after = {
      'GET /auth': [20, 15_000] as [number, number],
      'POST /token': [10, 20_000] as [number, number],
    };
    const steps = stepsPerSignIn(before, after, 10, 50);
    expect(steps.find((s) => s.name === 'authorize')?.ms).toBe(1);
    expect(steps.find((s) => s.name === 'token')?.ms).toBe(2);
    expect(steps.find((s) => s.name === 'userinfo')?.ms).toBe(0);
    expect(steps.find((s) => s.name === 'between requests')?.ms).toBe(2);
  });
});
