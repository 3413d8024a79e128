import { describe, expect, it } from 'vitest';
import { parseExpiry } from '../../../../src/auth/sip2/dates.ts';
import { decide, normaliseCard, rulesFrom } from '../../../../src/auth/sip2/decide.ts';
import type { Sip2Message } from '../../../../src/auth/sip2/message.ts';
import { STATUS_FLAGS, sip2OptionsSchema } from '../../../../src/auth/sip2/options.ts';
import type { Sip2Input } from './helpers.ts';

const NOW = new Date(2025, 5, 15, 12, 0, 0);
const CARD = '21234000000001';

function rules(extra: Partial<Sip2Input> = {}) {
  return rulesFrom(sip2OptionsSchema.parse({ servers: [{ host: 'h', allowInsecure: true }], ...extra }));
}

function reply(fields: Record<string, string | string[]>, flags = ' '.repeat(14), code = '64'): Sip2Message {
  const fixed = `${flags}00120250615    120000${code === '64' ? '0000'.repeat(6) : ''}`;
  const list: [string, string][] = [];
  for (const [tag, v] of Object.entries(fields))
    for (const value of Array.isArray(v) ? v : [v]) list.push([tag, value]);
  return { code, fixed, fields: list };
}

const good = { AO: 'inst', AA: CARD, AE: 'Ada', BL: 'Y', CQ: 'Y' };
const flag = (i: number) => `${' '.repeat(i)}Y${' '.repeat(13 - i)}`;

describe('sip2 decision rules: card and PIN', () => {
  it.each([
    ['BL=Y, CQ=Y', good, 'ok', undefined],
    ['BL=N (unknown card)', { ...good, BL: 'N' }, 'unknown-card', 'BL=N'],
    ['BL=N and no CQ (Evergreen unknown card)', { AO: '', AA: CARD, AE: '', BL: 'N' }, 'unknown-card', 'BL=N'],
    ['BL=N, CQ=N (Koha unknown card)', { ...good, BL: 'N', CQ: 'N' }, 'unknown-card', 'BL=N'],
    ['CQ=N (wrong PIN)', { ...good, CQ: 'N' }, 'bad-credentials', 'CQ=N'],
    ['CQ missing', { AO: '', AA: CARD, BL: 'Y' }, 'bad-credentials', 'reply has no CQ=Y: PIN not verified'],
    ['CQ empty', { ...good, CQ: '' }, 'bad-credentials', 'reply has no CQ=Y: PIN not verified'],
    ['CQ something else', { ...good, CQ: 'X' }, 'bad-credentials', 'reply has no CQ=Y: PIN not verified'],
    ['BL missing, CQ=Y', { AO: '', AA: CARD, CQ: 'Y' }, 'unknown-card', 'reply has no BL=Y'],
    [
      'BL and CQ missing (broken server)',
      { AO: '', AA: CARD, AF: 'Invalid patron' },
      'unknown-card',
      'reply has no BL=Y',
    ],
    ['lower-case y', { ...good, BL: 'y', CQ: 'y' }, 'ok', undefined],
  ] as const)('%s', (_name, fields, outcome, detail) => {
    const result = decide(reply(fields), rules(), NOW, CARD);
    if (outcome === 'ok') expect(result.kind).toBe('ok');
    else expect(result).toEqual({ kind: 'denied', reason: outcome, detail });
  });

  it('settles card and PIN before status: a wrong PIN on a blocked, expired card is bad-credentials', () => {
    const r = rules({ expiry: { field: 'PA', formats: ['YYYYMMDD'] } });
    expect(decide(reply({ ...good, CQ: 'N', PA: '20200101' }, flag(0)), r, NOW, CARD)).toMatchObject({
      reason: 'bad-credentials',
    });
  });

  it('reads the same rules from a 24', () => {
    expect(decide(reply(good, undefined, '24'), rules(), NOW, CARD).kind).toBe('ok');
    expect(decide(reply({ ...good, CQ: 'N' }, undefined, '24'), rules(), NOW, CARD)).toMatchObject({
      reason: 'bad-credentials',
    });
    expect(decide(reply(good, flag(4), '24'), rules(), NOW, CARD)).toMatchObject({ reason: 'blocked' });
  });
});

describe('sip2 decision rules: blocking', () => {
  it('blocks by default on charge privileges denied and card reported lost only', () => {
    const outcomes = Array.from({ length: 14 }, (_, i) => decide(reply(good, flag(i)), rules(), NOW, CARD));
    expect(outcomes.map((o) => (o.kind === 'denied' ? o.reason : o.kind))).toEqual([
      'blocked',
      'ok',
      'ok',
      'ok',
      'blocked',
      'ok',
      'ok',
      'ok',
      'ok',
      'ok',
      'ok',
      'ok',
      'ok',
      'ok',
    ]);
    expect(outcomes[4]).toMatchObject({ detail: 'status flag card-reported-lost' });
  });

  it('blocks on each of the 14 flags when configured, and on none when the list is empty', () => {
    const every = rules({ blocking: { flags: [...STATUS_FLAGS] } });
    const none = rules({ blocking: { flags: [] } });
    for (let i = 0; i < 14; i++) {
      expect(decide(reply(good, flag(i)), every, NOW, CARD)).toMatchObject({ reason: 'blocked' });
      expect(decide(reply(good, flag(i)), none, NOW, CARD).kind).toBe('ok');
    }
  });

  it('blocks on an AF pattern (case-insensitive), checked against every AF', () => {
    const r = rules({ blocking: { flags: [], afPattern: 'account locked|debarred' } });
    expect(decide(reply({ ...good, AF: ['Hello', 'ACCOUNT LOCKED'] }), r, NOW, CARD)).toEqual({
      kind: 'denied',
      reason: 'blocked',
      detail: 'AF matched blocking.afPattern',
    });
    expect(decide(reply({ ...good, AF: 'Greetings' }), r, NOW, CARD).kind).toBe('ok');
  });

  it.each([
    ['25.00', '5.00', true, undefined, 'BV over CC'],
    ['5.00', '5.00', true, undefined, undefined],
    ['25,50', '5,00', true, undefined, 'BV over CC'],
    ['25.00', '5.00', false, undefined, undefined],
    ['25.00', undefined, true, undefined, undefined],
    ['garbage', '5.00', true, undefined, undefined],
    ['12.00', undefined, false, 10, 'BV over blocking.feeLimit'],
    ['9.99', undefined, false, 10, undefined],
  ] as const)('fees BV %s, CC %s, feesOverLimit %s, feeLimit %s', (bv, cc, over, limit, detail) => {
    const r = rules({ blocking: { feesOverLimit: over, ...(limit === undefined ? {} : { feeLimit: limit }) } });
    const result = decide(reply({ ...good, BV: bv, ...(cc === undefined ? {} : { CC: cc }) }), r, NOW, CARD);
    if (detail) expect(result).toEqual({ kind: 'denied', reason: 'blocked', detail });
    else expect(result.kind).toBe('ok');
  });
});

describe('sip2 decision rules: expiry', () => {
  const koha = rules({ expiry: { field: 'PA', formats: ['YYYYMMDD'] } });

  it.each([
    ['20250614', 'expired'],
    ['20250615', 'ok'], // valid through its last day
    ['20991231', 'ok'],
    ['', 'ok'], // an empty field is no date
  ])('PA %j (YYYYMMDD) → %s', (pa, outcome) => {
    const result = decide(reply({ ...good, PA: pa }), koha, NOW, CARD);
    expect(result.kind === 'denied' ? result.reason : result.kind).toBe(outcome);
  });

  it('fails closed on a date in none of the configured formats, naming the field only', () => {
    expect(decide(reply({ ...good, PA: '14/06/2025' }), koha, NOW, CARD)).toEqual({
      kind: 'unavailable',
      cause: 'sip2: expiry field PA matches none of expiry.formats',
    });
  });

  it('ignores the expiry field when none is configured (Polaris PA is no date)', () => {
    expect(decide(reply({ ...good, PA: '3' }), rules(), NOW, CARD).kind).toBe('ok');
  });

  it('reads PX as a SIP timestamp and PY as the expired flag (Polaris)', () => {
    const polaris = rules({ expiry: { field: 'PX', expiredFlagField: 'PY' } });
    expect(decide(reply({ ...good, PX: '20250615    115959', PY: 'N' }), polaris, NOW, CARD)).toMatchObject({
      detail: 'PX date passed',
    });
    expect(decide(reply({ ...good, PX: '20250615    120001', PY: 'N' }), polaris, NOW, CARD).kind).toBe('ok');
    expect(decide(reply({ ...good, PX: '20991231    235959', PY: 'Y' }), polaris, NOW, CARD)).toEqual({
      kind: 'denied',
      reason: 'expired',
      detail: 'PY=Y',
    });
  });

  it('expires on an AF pattern, and expiry wins over blocking flags', () => {
    const r = rules({ expiry: { afPattern: 'expired' } });
    const result = decide(reply({ ...good, AF: 'Patron account has EXPIRED' }, `YYYY${' '.repeat(10)}`), r, NOW, CARD);
    expect(result).toEqual({ kind: 'denied', reason: 'expired', detail: 'AF matched expiry.afPattern' });
  });
});

describe('sip2 decision rules: stableId and attributes', () => {
  it('uses the configured id field, and never falls back to the card when it is missing', () => {
    const r = rules({ stableIdField: 'XI' });
    expect(decide(reply({ ...good, XI: ' 4711 ' }), r, NOW, CARD)).toEqual({
      kind: 'ok',
      patron: { stableId: '4711', attributes: {} },
    });
    expect(decide(reply(good), r, NOW, CARD)).toEqual({
      kind: 'unavailable',
      cause: 'sip2: reply has no XI (stableIdField)',
    });
    expect(decide(reply({ ...good, XI: '' }), r, NOW, CARD).kind).toBe('unavailable');
  });

  it('otherwise uses AA as returned, normalised; the sent card only when AA is empty', () => {
    expect(decide(reply({ ...good, AA: ' ab-12 34 ' }), rules(), NOW, 'x')).toMatchObject({
      patron: { stableId: 'AB1234' },
    });
    expect(decide(reply({ ...good, AA: '' }), rules(), NOW, 'zz-9')).toMatchObject({ patron: { stableId: 'ZZ9' } });
    expect(normaliseCard('ｂ１２３')).toBe('B123');
  });

  it('copies the configured fields into attributes, skipping empty ones', () => {
    const r = rules({ attributes: { patronClass: 'PC', notes: 'AF', missing: 'XX' } });
    expect(decide(reply({ ...good, PC: 'ADULT', AF: ['a', ''] }), r, NOW, CARD)).toMatchObject({
      patron: { attributes: { patronClass: ['ADULT'], notes: ['a'] } },
    });
  });

  it('never puts a value read about the patron into a denial', () => {
    const r = rules({
      expiry: { field: 'PA', formats: ['YYYYMMDD'] },
      blocking: { afPattern: 'locked', feesOverLimit: true },
    });
    const cases = [
      reply({ ...good, AE: 'Secret Name', BL: 'N' }),
      reply({ ...good, AE: 'Secret Name', CQ: 'N' }),
      reply({ ...good, AE: 'Secret Name', PA: '20200101' }),
      reply({ ...good, AE: 'Secret Name', AF: 'locked: Secret Name' }),
      reply({ ...good, AE: 'Secret Name', BV: '99.99', CC: '1.00' }),
    ];
    for (const c of cases) {
      const text = JSON.stringify(decide(c, r, NOW, CARD));
      for (const secret of ['Secret Name', CARD, '20200101', '99.99']) expect(text).not.toContain(secret);
    }
  });
});

describe('sip2 expiry date formats', () => {
  it.each([
    ['20250615    120000', 'YYYYMMDDZZZZHHmmss', new Date(2025, 5, 15, 12, 0, 0)],
    ['20250615   Z120000', 'YYYYMMDDZZZZHHmmss', new Date(Date.UTC(2025, 5, 15, 12, 0, 0))],
    ['202506150000120000', 'YYYYMMDDZZZZHHmmss', new Date(2025, 5, 15, 12, 0, 0)],
    ['2025-06-15', 'YYYY-MM-DD', new Date(2025, 5, 15, 23, 59, 59, 999)],
    ['06/15/2025', 'MM/DD/YYYY', new Date(2025, 5, 15, 23, 59, 59, 999)],
    ['15.06.2025', 'DD.MM.YYYY', new Date(2025, 5, 15, 23, 59, 59, 999)],
  ])('%j in %s', (value, format, expected) => {
    expect(parseExpiry(value, [format])).toEqual(expected);
  });

  it('rejects impossible dates and non-matching text', () => {
    expect(parseExpiry('20250231', ['YYYYMMDD'])).toBeUndefined();
    expect(parseExpiry('20251301', ['YYYYMMDD'])).toBeUndefined();
    expect(parseExpiry('2025061', ['YYYYMMDD'])).toBeUndefined();
    expect(parseExpiry('x20250615', ['YYYYMMDD'])).toBeUndefined();
    expect(parseExpiry('2025.06.15', ['YYYY-MM-DD'])).toBeUndefined();
  });
});
