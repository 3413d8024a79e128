// The simulator itself, spoken to over a raw socket: it must reproduce the
// verified lines of SIP2.md byte for byte and behave as SIP2.md says real
// servers do, or the other tests prove nothing.
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Sip2Simulator, startSip2Server } from '../../../support/sip2-server.ts';

// Opens a connection; `send` writes raw text and returns what came back
// within `ms` (or until the server closed the connection).
async function rawClient(sim: Sip2Simulator) {
  const socket = net.connect(sim.port, sim.host);
  await new Promise((r) => socket.once('connect', r));
  let buffer = '';
  let closed = false;
  socket.on('data', (d) => {
    buffer += d.toString('latin1');
  });
  socket.on('close', () => {
    closed = true;
  });
  return {
    async send(text: string, ms = 1000, untilReplies = 1): Promise<string> {
      buffer = '';
      socket.write(Buffer.from(text, 'latin1'));
      const until = Date.now() + ms;
      while (Date.now() < until && !closed && buffer.split('\r').length - 1 < untilReplies)
        await new Promise((r) => setTimeout(r, 5));
      return buffer;
    },
    get closed() {
      return closed;
    },
    end: () => socket.destroy(),
  };
}

describe('sip2 simulator: verified lines', () => {
  let sim: Sip2Simulator;
  beforeAll(async () => {
    sim = await startSip2Server({
      dialect: 'koha',
      institution: 'tmkodb',
      login: { user: 'OV', password: 'OV' },
      clock: () => new Date(2025, 4, 22, 15, 48, 5),
      patrons: [
        {
          card: '0310000000253',
          pin: '0213',
          id: '253',
          name: 'Libki Teszt',
          flags: '  Y           ',
          currency: 'HUF',
          fees: '0.0',
        },
      ],
    });
  });
  afterAll(() => sim.stop());

  it('answers the verified 93 with the verified 94, and the verified 23 with the verified 24', async () => {
    const c = await rawClient(sim);
    expect(await c.send('9300CNOV|COOV|CPWES|AY1AZF86B\r')).toBe('941AY1AZFDFC\r');
    expect(await c.send('990 402.00AY1AZFCB4\r')).toMatch(
      /^98YYYYNN10000320250522 {4}1548052\.00AOtmkodb\|AM.*\|BX.{16}\|AY1AZ[0-9A-F]{4}\r$/,
    );
    expect(await c.send('2300120250522    154913AO|AA0310000000253|AC|AD0213|AY0AZF30D\r')).toBe(
      '24  Y           00120250522    154805AOtmkodb|AA0310000000253|AELibki Teszt|BLY|CQY|BHHUF|BV0.0|AY0AZE5DB\r',
    );
    c.end();
  });

  it('echoes the sequence number: 94 with AY0 is the verified 941AY0AZFDFD', async () => {
    const c = await rawClient(sim);
    const login = '9300CNOV|COOV|CPWES|AY0AZ';
    const sum = [...Buffer.from(login)].reduce((a, b) => a + b, 0);
    const line = `${login}${(-sum & 0xffff).toString(16).toUpperCase().padStart(4, '0')}\r`;
    expect(await c.send(line)).toBe('941AY0AZFDFD\r');
    c.end();
  });

  it('accepts each verified SC status line', async () => {
    for (const line of ['990 402.00AY1AZFCB4', '9900401.00AY1AZFCA5', '9900302.00AY2AZFCA4']) {
      const c = await rawClient(sim);
      await c.send('9300CNOV|COOV|CPWES|AY1AZF86B\r');
      const reply = await c.send(`${line}\r`);
      expect(reply.startsWith('98YYYYNN'), line).toBe(true);
      expect(reply).toContain(`AY${line[line.length - 7]}AZ`);
      c.end();
    }
  });

  it('answers the two known-wrong tutorial checksums with 96, and closes after a damaged login', async () => {
    const c = await rawClient(sim);
    expect(await c.send('9300CNLoginUserID|COLoginPassword|CPLocationCode|AY5AZEC78\r')).toBe('96AZFEF6\r');
    await new Promise((r) => setTimeout(r, 50));
    expect(c.closed).toBe(true);
    const d = await rawClient(sim);
    await d.send('9300CNOV|COOV|CPWES|AY1AZF86B\r');
    expect(await d.send('2300119960212    100239AOid_21|104000000105|AC|AD|AY2AZF400\r')).toBe('96AZFEF6\r');
    expect(d.closed).toBe(false);
    d.end();
  });
});

describe('sip2 simulator: server behaviour', () => {
  let sim: Sip2Simulator;
  beforeAll(async () => {
    sim = await startSip2Server({ dialect: 'evergreen', login: { user: 'u', password: 'p' } });
  });
  afterAll(() => sim.stop());
  afterEach(() => sim.setMisbehaviour(undefined));

  // 63: language, date, ten blank summary characters, then the fields.
  const PATRON = `6300120250101    000000${' '.repeat(10)}AOsim|AA21234000000001|AC|AD1234|`;

  it('refuses wrong terminal credentials with 940, and answers nothing else before a login', async () => {
    const c = await rawClient(sim);
    expect(await c.send('9300CNu|COwrong|\r')).toBe('940\r');
    expect(await c.send(`${PATRON}\r`)).toBe('');
    expect(c.closed).toBe(true);
  });

  it('closes the connection on an unknown message type', async () => {
    const c = await rawClient(sim);
    await c.send('9300CNu|COp|\r');
    expect(await c.send('01N20250101    000000\r')).toBe('');
    expect(c.closed).toBe(true);
  });

  it('switches error detection off for a session that sends no AY/AZ', async () => {
    const c = await rawClient(sim);
    expect(await c.send('9300CNu|COp|\r')).toBe('941\r');
    const reply = await c.send(`${PATRON}\r`);
    expect(reply).toMatch(
      /^64 {14}00120\d{6} {4}\d{6}0{24}AOsim\|AA21234000000001\|AEAda Active\|BLY\|CQY\|.*XIp-0001\|\r$/,
    );
    c.end();
  });

  it('ends a message at CR only: LF alone does not, CRLF does', async () => {
    const c = await rawClient(sim);
    expect(await c.send('9300CNu|COp|\n', 100)).toBe('');
    expect(await c.send('\r\n9900302.00\r\n')).toMatch(/^941\r98/);
    c.end();
  });

  it('joins a request split across writes and answers two requests in one write', async () => {
    const c = await rawClient(sim);
    expect(await c.send('9300CN', 30)).toBe('');
    expect(await c.send('u|COp|\r')).toBe('941\r');
    const both = await c.send(`${PATRON}\r${PATRON.replace('AD1234', 'AD0000')}\r`, 1000, 2);
    const replies = both.split('\r').filter(Boolean);
    expect(replies).toHaveLength(2);
    expect(replies[0]).toContain('|CQY|');
    expect(replies[1]).toContain('|CQN|');
    c.end();
  });

  it('re-sends its last reply on 97, and answers 96 to a 97 before any reply', async () => {
    const c = await rawClient(sim);
    expect(await c.send('97AZFEF5\r')).toBe('96AZFEF6\r');
    const first = await c.send('9300CNu|COp|AY3AZFACC\r');
    expect(first).toBe('941AY3AZFDFA\r');
    expect(await c.send('97AZFEF5\r')).toBe(first);
    c.end();
  });

  it('answers an unknown card the Evergreen way: BLN, empty AE, YYYY flags, no CQ', async () => {
    const c = await rawClient(sim);
    await c.send('9300CNu|COp|\r');
    const reply = await c.send(`${PATRON.replace('21234000000001', '29999999999999')}\r`);
    expect(reply).toMatch(/^64YYYY {10}001/);
    expect(reply).toContain('|AE|BLN|');
    expect(reply).not.toContain('CQ');
    c.end();
  });

  it('records what it received and counts connections', async () => {
    const before = sim.accepted;
    const c = await rawClient(sim);
    await c.send('9300CNu|COp|\r');
    expect(sim.accepted).toBe(before + 1);
    expect(sim.connections).toBeGreaterThanOrEqual(1);
    expect(sim.received.at(-1)).toMatchObject({ code: '93', errorDetection: false });
    expect(sim.received.at(-1)?.fields.get('CN')).toBe('u');
    c.end();
  });
});
