// `check()`, behind `patronym check`: logs in and sends 99 to every server on
// a fresh connection, one line per server, or a PatronymError naming what
// failed.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PatronymError } from '../../../../src/errors.ts';
import { type Sip2Simulator, startSip2Server } from '../../../support/sip2-server.ts';
import { authenticatorFor, eventually, LOGIN } from './helpers.ts';

let sim: Sip2Simulator;
let second: Sip2Simulator;
beforeAll(async () => {
  sim = await startSip2Server({ login: LOGIN, institution: 'springfield' });
  second = await startSip2Server({ login: LOGIN, library: 'Branch', supportedMessages: 'NNNNYYYNNNNNNNNN' });
});
afterAll(async () => {
  await sim.stop();
  await second.stop();
});

async function rejection(promise: Promise<unknown>): Promise<PatronymError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(PatronymError);
    return error as PatronymError;
  }
  throw new Error('expected a rejection');
}

describe('sip2 check', () => {
  it('summarises the ACS status of every server, one line each, and leaves no connection open', async () => {
    const a = authenticatorFor([sim, second]);
    const lines = (await a.check()).split('\n');
    expect(lines).toEqual([
      `sip2 127.0.0.1:${sim.port}: on-line, protocol 2.00, institution "springfield", library "Simulated Library", login as "broker" accepted, supports patron status, sc/acs status, resend, login, patron information, end patron session, keep-alive every 25 s (must stay below the server's idle timeout)`,
      `sip2 127.0.0.1:${second.port}: on-line, protocol 2.00, institution "sim", library "Branch", login as "broker" accepted, supports sc/acs status, resend, login, warning: "patron information" (message 63) not listed as supported, keep-alive every 25 s (must stay below the server's idle timeout)`,
    ]);
    expect(sim.received.at(-1)?.code).toBe('99');
    await eventually(() => sim.connections === 0 && second.connections === 0);
    await a.close();
  });

  it('names an encoding mismatch it can see in the 98 (a library name with an accent)', async () => {
    const latin = await startSip2Server({ login: LOGIN, library: 'Bibliothèque', encoding: 'latin1' });
    const utf8 = await startSip2Server({ login: LOGIN, library: 'Bibliothèque' });
    try {
      const reading = authenticatorFor(latin, { keepAlive: 0 });
      expect(await reading.check()).toContain(
        "warning: encoding utf-8 but the server sent text that is not UTF-8: is the server's encoding cp850 or latin1?",
      );
      const cp850 = authenticatorFor(utf8, { keepAlive: 0, encoding: 'cp850' });
      expect(await cp850.check()).toContain(
        "warning: encoding cp850 but the server sent text that looks like UTF-8: is the server's encoding utf-8?",
      );
      const right = authenticatorFor(utf8, { keepAlive: 0 });
      expect(await right.check()).not.toContain('warning');
      await Promise.all([reading.close(), cp850.close(), right.close()]);
    } finally {
      await latin.stop();
      await utf8.stop();
    }
  });

  it('names a refused login', async () => {
    const a = authenticatorFor(sim, { login: { ...LOGIN, password: 'nope' } });
    const error = await rejection(a.check());
    expect(error.code).toBe('sip2_check_failed');
    expect(error.message).toBe(
      `sip2: 127.0.0.1:${sim.port} login as "broker" refused (94 "0"): check login.user and login.password`,
    );
    await a.close();
  });

  it('names each server that does not answer, after checking the others', async () => {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const dead = (s.address() as net.AddressInfo).port;
    await new Promise((r) => s.close(r));
    const a = authenticatorFor([sim, { host: '127.0.0.1', port: dead } as Sip2Simulator]);
    const from = sim.received.length;
    const error = await rejection(a.check());
    expect(error.message).toBe(`sip2: 127.0.0.1:${dead} connection refused`);
    expect(sim.received.slice(from).map((m) => m.code)).toEqual(['93', '99']);
    await a.close();
  });

  it('names a server whose replies cannot be trusted', async () => {
    const a = authenticatorFor(sim, { retries: 0 });
    sim.setMisbehaviour({ kind: 'bad-checksum', on: ['99'] });
    try {
      expect((await rejection(a.check())).message).toBe(`sip2: 127.0.0.1:${sim.port} reply checksum bad once`);
    } finally {
      sim.setMisbehaviour(undefined);
      await a.close();
    }
  });
});
