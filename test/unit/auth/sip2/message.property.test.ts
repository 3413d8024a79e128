// Properties of the pure SIP2 code, over inputs nobody would write by hand.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decide, rulesFrom } from '../../../../src/auth/sip2/decide.ts';
import { SIP2_ENCODINGS } from '../../../../src/auth/sip2/encoding.ts';
import { encodeMessage, FIXED_LENGTHS, Framer, parseMessage } from '../../../../src/auth/sip2/message.ts';
import { sip2OptionsSchema } from '../../../../src/auth/sip2/options.ts';

const printable = (max: number) =>
  fc.string({
    unit: fc.constantFrom(
      ...' !"#$%&()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{}~éü',
    ),
    maxLength: max,
  });
const tag = fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'), minLength: 2, maxLength: 2 });
const replyCode = fc.constantFrom('24', '36', '64', '94', '98');

const message = replyCode.chain((code) =>
  fc.record({
    code: fc.constant(code),
    fixed: fc.string({
      unit: fc.constantFrom(...' YN0123456789'),
      minLength: FIXED_LENGTHS[code],
      maxLength: FIXED_LENGTHS[code],
    }),
    fields: fc.array(fc.tuple(tag, printable(40)), { maxLength: 8 }),
  }),
);

describe('sip2 message properties', () => {
  it('does not take a last field ending in "AZ" for a checksum trailer (found by the property below)', () => {
    const m = {
      code: '64',
      fixed: ' '.repeat(FIXED_LENGTHS['64'] ?? 0),
      fields: [['AA', 'Z'] as [string, string], ['AA', ''] as [string, string]],
    };
    const bytes = encodeMessage(m, { encoding: 'utf-8', errorDetection: false, seq: 0 });
    expect(parseMessage(bytes.subarray(0, -1), 'utf-8')).toEqual({ ok: true, checksummed: false, message: m });
  });

  it('parsing any bytes never throws', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.constantFrom(...SIP2_ENCODINGS), (bytes, encoding) => {
        parseMessage(bytes, encoding);
        parseMessage(Buffer.concat([Buffer.from('64'), bytes, Buffer.from('AZ12AB')]), encoding);
      }),
      { numRuns: 500 },
    );
  });

  it('encode then parse gives the message back, in every encoding, with and without error detection', () => {
    fc.assert(
      fc.property(
        message,
        fc.constantFrom(...SIP2_ENCODINGS),
        fc.boolean(),
        fc.integer({ min: 0, max: 9 }),
        (m, encoding, errorDetection, seq) => {
          const bytes = encodeMessage(m, { encoding, errorDetection, seq });
          expect(bytes.at(-1)).toBe(0x0d);
          const parsed = parseMessage(bytes.subarray(0, -1), encoding);
          expect(parsed).toEqual({
            ok: true,
            checksummed: errorDetection,
            message: errorDetection ? { ...m, seq } : { code: m.code, fixed: m.fixed, fields: m.fields },
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('no single changed byte passes as a checksummed message with other content', () => {
    fc.assert(
      fc.property(message, fc.nat(), fc.integer({ min: 1, max: 255 }), (m, at, delta) => {
        const bytes = encodeMessage(m, { encoding: 'utf-8', errorDetection: true, seq: 3 }).subarray(0, -1);
        const i = at % bytes.length;
        const changed = Buffer.from(bytes);
        changed[i] = ((changed[i] ?? 0) + delta) & 0xff;
        const parsed = parseMessage(changed, 'utf-8');
        // Only a change of case in the hex digits ("FCB4" → "FcB4") may
        // still verify, and it leaves the message as it was.
        if (parsed.ok && parsed.checksummed) {
          expect(i).toBeGreaterThanOrEqual(bytes.length - 4);
          expect(parsed.message).toEqual({ ...m, seq: 3 });
        }
      }),
      { numRuns: 500 },
    );
  });

  it('frames survive any split into packets', () => {
    const frame = fc
      .uint8Array({ minLength: 1, maxLength: 60 })
      .map((b) => Buffer.from(b.map((x) => (x === 0x0d || x === 0x0a ? 0x41 : x))));
    fc.assert(
      fc.property(
        fc.array(frame, { maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.boolean(),
        (frames, cuts, crlf) => {
          const stream = Buffer.concat(frames.flatMap((f) => [f, Buffer.from(crlf ? '\r\n' : '\r')]));
          const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
          const framer = new Framer();
          const out: Buffer[] = [];
          let last = 0;
          for (const p of [...points, stream.length]) {
            out.push(...framer.push(stream.subarray(last, p)));
            last = p;
          }
          expect(out).toEqual(frames);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('decides ok only when BL and CQ are both Y', () => {
    const rules = rulesFrom(
      sip2OptionsSchema.parse({ servers: [{ host: 'h', allowInsecure: true }], blocking: { flags: [] } }),
    );
    const yn = fc.constantFrom('Y', 'N', 'y', '', ' ', 'YES', '0');
    const fields = fc.array(
      fc.oneof(
        fc.tuple(fc.constantFrom('BL', 'CQ', 'AA', 'AF'), fc.oneof(yn, printable(8))),
        fc.tuple(tag, printable(8)),
      ),
      {
        maxLength: 10,
      },
    );
    fc.assert(
      fc.property(
        fields,
        fc.string({ unit: fc.constantFrom(' ', 'Y', 'N'), minLength: 14, maxLength: 14 }),
        (list, flags) => {
          const m = { code: '64', fixed: `${flags}00120250101    000000${'0'.repeat(24)}`, fields: list };
          const result = decide(m, rules, new Date(), 'CARD');
          if (result.kind === 'ok') {
            expect(
              list
                .find(([t]) => t === 'BL')?.[1]
                .trim()
                .toUpperCase(),
            ).toBe('Y');
            expect(
              list
                .find(([t]) => t === 'CQ')?.[1]
                .trim()
                .toUpperCase(),
            ).toBe('Y');
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
