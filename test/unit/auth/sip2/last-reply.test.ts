// Finding 4 of issue 13: a server that keeps its last reply per worker and
// answers a 97 on a fresh, unauthenticated connection with it. Whatever the
// broker does, an outside probe must get nothing about a patron: the broker
// always leaves a harmless last reply (a 98) before it lets a connection go.
import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Sip2Authenticator } from '../../../../src/auth/sip2/sip2-authenticator.ts';
import {
  patronFieldsIn,
  probeLastReply,
  SIP2_CARDS,
  SIP2_PATRONS,
  type Sip2Simulator,
  startSip2Server,
} from '../../../support/sip2-server.ts';
import { authenticatorFor, eventually, LOGIN, type Sip2Input, sleep } from './helpers.ts';

let sim: Sip2Simulator;
let a: Sip2Authenticator | undefined;

beforeEach(async () => {
  sim = await startSip2Server({ dialect: 'evergreen', login: LOGIN, quirks: { replayToNewConnections: true } });
});
afterEach(async () => {
  await a?.close();
  a = undefined;
  await sim.stop();
});

function make(extra: Partial<Sip2Input> = {}): Sip2Authenticator {
  a = authenticatorFor(sim, { stableIdField: 'XI', timeout: 0.4, ...extra });
  return a;
}

const SECRETS = SIP2_PATRONS.flatMap((p) => [p.card, p.name, ...(p.email ? [p.email] : [])]);

// Probes every worker the simulator holds (one per connection ever closed)
// and returns what leaked: patron tags, fixture values, patron replies.
async function leaks(): Promise<string[]> {
  await eventually(() => sim.connections === 0, 5000);
  const found: string[] = [];
  const workers = sim.accepted;
  for (let i = 0; i < workers; i++) {
    const reply = await probeLastReply(sim);
    found.push(...patronFieldsIn(reply));
    if (/^(64|24|36)/.test(reply)) found.push(`a ${reply.slice(0, 2)} reply`);
    found.push(...SECRETS.filter((s) => reply.includes(s)));
  }
  return found;
}

describe('the simulator mode "replays last reply to new connections"', () => {
  it('does leak the record of a client that closes right after a patron request', async () => {
    // A naive client: login, one 63, close.
    const socket = net.connect(sim.port, sim.host);
    let replies = 0;
    socket.on('data', (d: Buffer) => {
      replies += d.toString('latin1').split('\r').length - 1;
    });
    socket.write(`9300CN${LOGIN.user}|CO${LOGIN.password}|\r`);
    const { card, pin } = SIP2_CARDS.active;
    socket.write(`63001${'20250101    000000'}${' '.repeat(10)}AOsim|AA${card}|AC|AD${pin}|\r`);
    await eventually(() => replies === 2);
    socket.destroy();
    const found = await leaks();
    expect(found).toContain('AE');
    expect(found).toContain('Ada Active');
  });
});

describe('the broker leaves a harmless last reply', () => {
  it('after shutdown (close) with sign-ins of all kinds on several connections', async () => {
    const b = make({ poolSize: 3 });
    const all = [SIP2_CARDS.active, SIP2_CARDS.wrongPin, SIP2_CARDS.otherActive, SIP2_CARDS.blocked];
    await Promise.all([...all, ...all].map((c) => b.authenticate(c)));
    await b.close();
    expect(await leaks()).toEqual([]);
  });

  it('after shutdown while a sign-in is still in flight', async () => {
    const b = make({ poolSize: 1, timeout: 2 });
    sim.setMisbehaviour({ kind: 'slow', ms: 200 });
    const pending = b.authenticate(SIP2_CARDS.active);
    await eventually(() => sim.received.some((m) => m.code === '63'));
    await b.close();
    await pending;
    expect(await leaks()).toEqual([]);
  });

  it('after a timeout, once the late reply has come', async () => {
    const b = make({ poolSize: 1 });
    sim.setMisbehaviour({ kind: 'slow', ms: 600, times: 1 });
    expect(await b.authenticate(SIP2_CARDS.active)).toMatchObject({ kind: 'unavailable' });
    await sleep(700);
    expect(await leaks()).toEqual([]);
    expect((await b.authenticate(SIP2_CARDS.active)).kind).toBe('ok');
  });

  it('after a reply naming another patron made it drop the connection', async () => {
    const b = make({ poolSize: 1, errorDetection: false });
    const other = `64${' '.repeat(14)}00120250101    000000${'0'.repeat(24)}AOsim|AA21234000000002|AEOtto Other|BLY|CQY|XIp-0002|\r`;
    sim.setMisbehaviour({ kind: 'garbage', bytes: Buffer.from(other), times: 1 });
    expect(await b.authenticate(SIP2_CARDS.active)).toMatchObject({ kind: 'unavailable' });
    await b.close();
    expect(await leaks()).toEqual([]);
  });

  it('after `patronym check --card` (check, one sign-in, close)', async () => {
    const b = make();
    await b.check();
    expect((await b.authenticate(SIP2_CARDS.active)).kind).toBe('ok');
    await b.close();
    expect(await leaks()).toEqual([]);
  });

  it('while idle: the connection at rest holds a 98, so a server that times it out leaks nothing', async () => {
    sim.setQuirks({ replayToNewConnections: true, idleTimeoutMs: 300 });
    const b = make({ poolSize: 1 });
    expect((await b.authenticate(SIP2_CARDS.active)).kind).toBe('ok');
    expect(await leaks()).toEqual([]);
  });
});
