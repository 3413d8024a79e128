// Whatever bytes a server sends, the authenticator neither crashes nor signs
// anybody in on them. A raw server answers each request with the bytes under
// test and closes, so every run is a fresh connection and nothing waits.
import net from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthResult } from '../../../../src/auth/authenticator.ts';
import { sip2OptionsSchema } from '../../../../src/auth/sip2/options.ts';
import { Sip2Authenticator } from '../../../../src/auth/sip2/sip2-authenticator.ts';
import { SIP2_CARDS, simChecksum } from '../../../support/sip2-server.ts';
import type { Sip2Input } from './helpers.ts';

let payload: Uint8Array = Buffer.alloc(0);
// Given: the answer to a 97 (the first answer is `payload`), and the
// connection stays open for it.
let resend: Uint8Array | undefined;
let server: net.Server;
let port: number;

beforeAll(async () => {
  server = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.on('data', (d) => {
      if (!d.includes(0x0d)) return;
      if (resend === undefined) socket.end(payload);
      else socket.write(d.subarray(0, 2).toString() === '97' ? resend : payload);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as net.AddressInfo).port;
});
afterAll(() => new Promise((r) => server.close(r)));

function make(extra: Partial<Sip2Input>): Sip2Authenticator {
  return new Sip2Authenticator(
    'fuzz',
    sip2OptionsSchema.parse({
      servers: [{ host: '127.0.0.1', port, allowInsecure: true }],
      scStatus: false,
      poolSize: 1,
      timeout: 0.5,
      ...extra,
    }),
  );
}

// No `ok`, and no defect dressed up as an outage.
function sound(result: AuthResult): void {
  expect(result.kind).not.toBe('ok');
  if (result.kind === 'unavailable') expect(result.cause).not.toMatch(/unexpected error/);
}

// A genuine 64 for the active card, answering the first request (AY0).
function reply64(bl: string, cq: string): Buffer {
  const body = `64${' '.repeat(14)}00120250101    000000${'0'.repeat(24)}AOsim|AA${SIP2_CARDS.active.card}|AEAda|BL${bl}|CQ${cq}|AY0AZ`;
  return Buffer.from(`${body}${simChecksum(Buffer.from(body))}\r`, 'latin1');
}

describe('sip2 fuzzing over a socket', () => {
  for (const errorDetection of [true, false]) {
    it(`survives any bytes as a reply (error detection ${errorDetection ? 'on' : 'off'})`, async () => {
      const a = make({ errorDetection });
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), fc.boolean(), async (bytes, cr) => {
          payload = Buffer.concat([Buffer.from(bytes), Buffer.from(cr ? '\r' : '')]);
          sound(await a.authenticate(SIP2_CARDS.active));
        }),
        { numRuns: 120 },
      );
      await a.close();
    });
  }

  it('survives any bytes during connection set-up', async () => {
    const a = make({ scStatus: true, login: { user: 'u', password: 'p' } });
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 120 }), async (bytes) => {
        payload = Buffer.concat([Buffer.from(bytes), Buffer.from('\r')]);
        sound(await a.authenticate(SIP2_CARDS.active));
      }),
      { numRuns: 80 },
    );
    await a.close();
  });

  it('never turns a damaged "no" into a "yes"', async () => {
    const a = make({});
    payload = reply64('Y', 'N');
    expect(await a.authenticate(SIP2_CARDS.active)).toMatchObject({ reason: 'bad-credentials' });
    const no = reply64('Y', 'N');
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: no.length - 2 }), fc.integer({ min: 1, max: 255 }), async (at, delta) => {
        payload = Buffer.from(no);
        payload[at] = ((payload[at] ?? 0) + delta) & 0xff;
        sound(await a.authenticate(SIP2_CARDS.active));
      }),
      { numRuns: 120 },
    );
    await a.close();
  });

  // After a 97 any AY is accepted (Evergreen re-sends with AY0): whatever
  // comes back then, a damaged "no" never turns into a "yes".
  it('never turns a "no" re-sent after a 97 into a "yes", whatever its AY or damage', async () => {
    const a = make({ scStatus: false, clearLastReply: false });
    const no = reply64('Y', 'N');
    const damaged = Buffer.from(no);
    damaged[2] = (damaged[2] ?? 0) ^ 0x01;
    const withSeq = (seq: number) => {
      const body = no
        .subarray(0, no.length - 5)
        .toString('latin1')
        .replace(/AY\dAZ$/, `AY${seq}AZ`);
      return Buffer.from(`${body}${simChecksum(Buffer.from(body, 'latin1'))}\r`, 'latin1');
    };
    try {
      // The path is taken: an undamaged re-send with another AY is read.
      payload = damaged;
      resend = withSeq(7);
      expect(await a.authenticate(SIP2_CARDS.active)).toMatchObject({ reason: 'bad-credentials' });
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 9 }),
          fc.option(fc.tuple(fc.nat({ max: no.length - 2 }), fc.integer({ min: 1, max: 255 })), { nil: undefined }),
          async (seq, mutation) => {
            let again = withSeq(seq);
            if (mutation) {
              again = Buffer.from(again);
              again[mutation[0]] = ((again[mutation[0]] ?? 0) + mutation[1]) & 0xff;
            }
            payload = damaged;
            resend = again;
            sound(await a.authenticate(SIP2_CARDS.active));
          },
        ),
        { numRuns: 120 },
      );
    } finally {
      resend = undefined;
      await a.close();
    }
  });

  it('never takes a truncated "yes" as one', async () => {
    const a = make({});
    const yes = reply64('Y', 'Y');
    payload = yes;
    expect((await a.authenticate(SIP2_CARDS.active)).kind).toBe('ok');
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: yes.length - 2 }), async (cut) => {
        payload = Buffer.concat([yes.subarray(0, cut), Buffer.from('\r')]);
        sound(await a.authenticate(SIP2_CARDS.active));
      }),
      { numRuns: 80 },
    );
    await a.close();
  });
});
