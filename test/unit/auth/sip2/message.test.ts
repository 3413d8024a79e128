import { describe, expect, it } from 'vitest';
import { decodeText, encodeText } from '../../../../src/auth/sip2/encoding.ts';
import {
  checksum,
  encodeMessage,
  Framer,
  parseMessage,
  type Sip2Request,
  valueProblem,
  verifyChecksum,
} from '../../../../src/auth/sip2/message.ts';
import {
  endSessionRequest,
  loginRequest,
  patronInformationRequest,
  patronStatusRequest,
  readAcsStatus,
  scStatusRequest,
} from '../../../../src/auth/sip2/requests.ts';

// SIP2.md, "Verified lines" (each ends with CR).
const VERIFIED = [
  '990 402.00AY1AZFCB4',
  '9900401.00AY1AZFCA5',
  '941AY0AZFDFD',
  '9300CNOV|COOV|CPWES|AY1AZF86B',
  '941AY1AZFDFC',
  '9900302.00AY2AZFCA4',
  '2300120250522    154913AO|AA0310000000253|AC|AD0213|AY0AZF30D',
  '24  Y           00120250522    154805AOtmkodb|AA0310000000253|AELibki Teszt|BLY|CQY|BHHUF|BV0.0|AY0AZE5DB',
];
// Copied into tutorials with wrong checksums; the right ones in comments.
const TUTORIAL_WRONG = [
  '9300CNLoginUserID|COLoginPassword|CPLocationCode|AY5AZEC78', // EC7B
  '2300119960212    100239AOid_21|104000000105|AC|AD|AY2AZF400', // F2F3
];

const bytes = (s: string) => Buffer.from(s, 'latin1');
const ed = (seq: number) => ({ encoding: 'utf-8' as const, errorDetection: true, seq });

describe('sip2 checksum', () => {
  it.each(VERIFIED)('reproduces the checksum of %s', (line) => {
    expect(checksum(bytes(line.slice(0, -4)))).toBe(line.slice(-4));
    expect(verifyChecksum(bytes(line))).toBe(true);
  });

  it('rejects the two known-wrong tutorial checksums and accepts the corrected ones', () => {
    for (const line of TUTORIAL_WRONG) {
      expect(verifyChecksum(bytes(line))).toBe(false);
      expect(parseMessage(bytes(line), 'utf-8')).toMatchObject({ ok: false, problem: 'checksum' });
    }
    expect(checksum(bytes(TUTORIAL_WRONG[0]?.slice(0, -4) ?? ''))).toBe('EC7B');
    expect(checksum(bytes(TUTORIAL_WRONG[1]?.slice(0, -4) ?? ''))).toBe('F2F3');
    expect(verifyChecksum(bytes('9300CNLoginUserID|COLoginPassword|CPLocationCode|AY5AZEC7B'))).toBe(true);
    expect(verifyChecksum(bytes('2300119960212    100239AOid_21|104000000105|AC|AD|AY2AZF2F3'))).toBe(true);
  });

  it('masks to four digits when the sum is a multiple of 65536 (never a fifth digit)', () => {
    const data = Buffer.concat([Buffer.alloc(257, 0xff), Buffer.from([1])]); // sum 65536
    expect(checksum(data)).toBe('0000');
    expect(checksum(Buffer.alloc(0))).toBe('0000');
    expect(checksum(Buffer.from([1]))).toBe('FFFF');
  });

  it('accepts lower-case hex digits but nothing else in the checksum', () => {
    expect(verifyChecksum(bytes('941AY0AZfdfd'))).toBe(true);
    expect(verifyChecksum(bytes('941AY0AZFDFG'))).toBe(false);
    expect(verifyChecksum(bytes('941AY0AXFDFD'))).toBe(false);
    expect(verifyChecksum(bytes('AZFDF'))).toBe(false);
  });
});

describe('sip2 message encoding (golden vectors)', () => {
  const line = (request: Sip2Request, seq: number) => encodeMessage(request, ed(seq)).toString('latin1');

  it('builds the verified 93 login', () => {
    expect(line(loginRequest('OV', 'OV', 'WES'), 1)).toBe('9300CNOV|COOV|CPWES|AY1AZF86B\r');
  });

  it('builds the verified 99 SC status lines', () => {
    expect(line(scStatusRequest(' 40'), 1)).toBe('990 402.00AY1AZFCB4\r');
    expect(line(scStatusRequest('030'), 2)).toBe('9900302.00AY2AZFCA4\r');
    expect(line({ code: '99', fixed: '00401.00', fields: [] }, 1)).toBe('9900401.00AY1AZFCA5\r');
  });

  it('builds the verified 23 patron status request', () => {
    const request = patronStatusRequest({
      institution: '',
      card: '0310000000253',
      pin: '0213',
      terminalPassword: '',
      language: '001',
      now: new Date(2025, 4, 22, 15, 49, 13),
    });
    expect(line(request, 0)).toBe('2300120250522    154913AO|AA0310000000253|AC|AD0213|AY0AZF30D\r');
  });

  it('builds the verified 94 and 24 replies from their parts', () => {
    expect(line({ code: '94', fixed: '1', fields: [] }, 0)).toBe('941AY0AZFDFD\r');
    expect(line({ code: '94', fixed: '1', fields: [] }, 1)).toBe('941AY1AZFDFC\r');
    const fields: [string, string][] = [
      ['AO', 'tmkodb'],
      ['AA', '0310000000253'],
      ['AE', 'Libki Teszt'],
      ['BL', 'Y'],
      ['CQ', 'Y'],
      ['BH', 'HUF'],
      ['BV', '0.0'],
    ];
    expect(line({ code: '24', fixed: '  Y           00120250522    154805', fields }, 0)).toBe(`${VERIFIED[7]}\r`);
  });

  it('builds 63 with AD always and ten blank summary characters; 35 without the PIN', () => {
    const q = {
      institution: 'inst',
      card: 'C1',
      pin: 'P1',
      terminalPassword: 'T',
      language: '001',
      now: new Date(2025, 0, 2, 3, 4, 5),
    };
    const info = encodeMessage(patronInformationRequest(q), { encoding: 'utf-8', errorDetection: false }).toString();
    expect(info).toBe(`6300120250102    030405${' '.repeat(10)}AOinst|AAC1|ACT|ADP1|\r`);
    const end = encodeMessage(endSessionRequest(q), { encoding: 'utf-8', errorDetection: false }).toString();
    expect(end).toBe('3520250102    030405AOinst|AAC1|ACT|\r');
  });

  it('sends 97 with a checksum but no sequence number', () => {
    expect(
      encodeMessage({ code: '97', fixed: '', fields: [] }, { encoding: 'utf-8', errorDetection: true }).toString(),
    ).toBe('97AZFEF5\r');
  });

  it('refuses values SIP2 cannot carry, naming the field but not the value', () => {
    for (const [value, problem] of [
      ['12|34', 'delimiter'],
      ['12\r34', 'control character'],
      ['x\u0000', 'control character'],
      ['y'.repeat(256), 'too long'],
    ] as const) {
      expect(valueProblem(value, 'utf-8')).toBe(problem);
      expect(() => encodeMessage({ code: '63', fixed: '', fields: [['AD', value]] }, ed(0))).toThrow(
        /field AD cannot be sent/,
      );
      try {
        encodeMessage({ code: '63', fixed: '', fields: [['AD', value]] }, ed(0));
      } catch (error) {
        expect((error as Error).message).not.toContain(value);
      }
    }
    expect(valueProblem('y'.repeat(255), 'utf-8')).toBeUndefined();
    expect(valueProblem('€', 'latin1')).toBe('unencodable');
    expect(valueProblem('€', 'cp850')).toBe('unencodable');
    expect(valueProblem('€', 'utf-8')).toBeUndefined();
    expect(valueProblem('\ud800', 'utf-8')).toBe('unencodable');
  });
});

describe('sip2 message parsing', () => {
  it.each(VERIFIED)('parses and re-encodes %s byte for byte', (text) => {
    const parsed = parseMessage(bytes(text), 'utf-8');
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.checksummed).toBe(true);
    const again = encodeMessage(parsed.message, {
      encoding: 'utf-8',
      errorDetection: true,
      seq: parsed.message.seq ?? 0,
    });
    expect(again.toString('latin1')).toBe(`${text}\r`);
  });

  it('reads the verified 24 field by field', () => {
    const parsed = parseMessage(bytes(VERIFIED[7] ?? ''), 'utf-8');
    expect(parsed).toMatchObject({
      ok: true,
      message: { code: '24', fixed: '  Y           00120250522    154805', seq: 0 },
    });
    if (parsed.ok)
      expect(Object.fromEntries(parsed.message.fields)).toMatchObject({
        AE: 'Libki Teszt',
        BL: 'Y',
        CQ: 'Y',
        BV: '0.0',
      });
  });

  it('is lenient where servers are sloppy, strict where it matters', () => {
    const ok = (s: string) => parseMessage(bytes(s), 'utf-8');
    expect(ok('941')).toMatchObject({ ok: true, checksummed: false, message: { code: '94', fixed: '1', fields: [] } });
    // No `|` after the last field, `||`, repeated AF.
    const p = ok('36Y20250101    000000AOx||AFone|AFtwo');
    expect(p.ok && p.message.fields).toEqual([
      ['AO', 'x'],
      ['AF', 'one'],
      ['AF', 'two'],
    ]);
    expect(ok('36Y20250101    000000AOx|Z|')).toMatchObject({ ok: false, problem: 'malformed' });
    expect(ok('64  short')).toMatchObject({ ok: false, problem: 'malformed' });
    expect(ok('XX')).toMatchObject({ ok: false, problem: 'malformed' });
    expect(ok('55whatever')).toMatchObject({ ok: false, detail: 'unknown message code "55"' });
    expect(ok('')).toMatchObject({ ok: false, problem: 'malformed' });
  });

  it('reads an ACS status', () => {
    const p = parseMessage(
      bytes('98YYYYNN10000320250101    0000002.00AOinst|AMThe Library|BXYNNNYYYYYNNNNNNN|'),
      'utf-8',
    );
    expect(p.ok && readAcsStatus(p.message)).toEqual({
      online: true,
      protocol: '2.00',
      institution: 'inst',
      library: 'The Library',
      supported: ['patron status', 'sc/acs status', 'resend', 'login', 'patron information', 'end patron session'],
    });
  });
});

describe('sip2 framing', () => {
  it('joins a message split across packets and splits two in one packet', () => {
    const f = new Framer();
    expect(f.push(bytes('941AY'))).toEqual([]);
    expect(f.push(bytes('0AZFDFD\r94')).map(String)).toEqual(['941AY0AZFDFD']);
    expect(f.push(bytes('0\r941\r')).map(String)).toEqual(['940', '941']);
  });

  it('ends a message at CR only; drops the LF of CRLF and empty frames', () => {
    const f = new Framer();
    expect(f.push(bytes('941\n940'))).toEqual([]);
    expect(f.push(bytes('\r\n941\r\n\r')).map(String)).toEqual(['941\n940', '941']);
  });

  it('refuses an endless frame', () => {
    const f = new Framer(100);
    expect(() => f.push(Buffer.alloc(101, 0x41))).toThrow(/longer than 100 bytes/);
  });
});

describe('sip2 character sets', () => {
  it('maps CP850 both ways (checked against the published table)', () => {
    expect([...(encodeText('ÇüéÄÅ£ßµ¤\u00a0', 'cp850') ?? [])]).toEqual([
      0x80, 0x81, 0x82, 0x8e, 0x8f, 0x9c, 0xe1, 0xe6, 0xcf, 0xff,
    ]);
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const text = decodeText(all, 'cp850');
    expect([...text].length).toBe(256);
    expect(encodeText(text, 'cp850')).toEqual(all);
  });

  it('checksums the encoded bytes, so the encoding changes the checksum', () => {
    const m: Sip2Request = { code: '63', fixed: '', fields: [['AD', 'pé']] };
    const utf8 = encodeMessage(m, { encoding: 'utf-8', errorDetection: true, seq: 0 });
    const cp850 = encodeMessage(m, { encoding: 'cp850', errorDetection: true, seq: 0 });
    const latin1 = encodeMessage(m, { encoding: 'latin1', errorDetection: true, seq: 0 });
    expect(new Set([utf8, cp850, latin1].map((b) => b.toString('hex'))).size).toBe(3);
    for (const b of [utf8, cp850, latin1]) expect(verifyChecksum(b.subarray(0, -1))).toBe(true);
    expect(cp850.includes(0x82)).toBe(true);
  });

  it('decodes leniently and refuses to encode what the set lacks', () => {
    expect(decodeText(Buffer.from([0x41, 0xff, 0x42]), 'utf-8')).toBe('A\ufffdB');
    expect(decodeText(Buffer.from([0xe9]), 'latin1')).toBe('é');
    expect(encodeText('Ā', 'latin1')).toBeUndefined();
    expect(encodeText('日本', 'cp850')).toBeUndefined();
  });
});
