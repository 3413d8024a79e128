// The pinned vectors in derive.test.ts come from the implementation; here
// the same derivations are computed by a second, independent implementation
// (Python's hmac and base64, written from ARCHITECTURE.md's formulas, in
// vectors.py) over random inputs, including non-ASCII ids and sectors, and
// must agree to the byte.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deriveAccountId, derivePseudonym } from '../../../src/pseudonym/derive.ts';

interface Case {
  accountKey: string;
  pairwiseKey: string;
  realm: string;
  stableId: string;
  sector: string;
  generation: number;
  scope: string;
}

const text = fc.string({ unit: 'grapheme', minLength: 0, maxLength: 24 });
const host = fc.stringMatching(/^[a-z0-9][a-z0-9.-]{0,30}$/);

describe('pseudonym derivation, checked by an independent implementation', () => {
  it('agrees with vectors.py on 300 random cases', () => {
    const cases: Case[] = fc
      .sample(
        fc.record({
          realm: text,
          stableId: text,
          sector: fc.oneof(
            host,
            host.map((h) => h.toUpperCase()),
          ),
          generation: fc.nat({ max: 1_000_000 }),
          scope: host,
        }),
        300,
      )
      .map((c) => ({
        ...c,
        accountKey: randomBytes(32).toString('hex'),
        pairwiseKey: randomBytes(32).toString('hex'),
      }));
    const script = fileURLToPath(new URL('./vectors.py', import.meta.url));
    const expected = JSON.parse(execFileSync('python3', [script], { input: JSON.stringify(cases) }).toString()) as {
      accountId: string;
      sub: string;
    }[];
    cases.forEach((c, i) => {
      const accountId = deriveAccountId(Buffer.from(c.accountKey, 'hex'), c.realm, c.stableId);
      expect(accountId).toBe(expected[i]?.accountId);
      const sub = derivePseudonym(Buffer.from(c.pairwiseKey, 'hex'), {
        sector: c.sector,
        accountId,
        generation: c.generation,
        scope: c.scope,
      });
      expect(sub).toBe(expected[i]?.sub);
    });
  });

  it('agrees on the vectors pinned in derive.test.ts', () => {
    const pinned = {
      accountKey: '01'.repeat(32),
      pairwiseKey: '02'.repeat(32),
      realm: 'springfield',
      stableId: 'demo-patron-0001',
      sector: 'localhost',
      generation: 0,
      scope: 'springfield.example.org',
    };
    const script = fileURLToPath(new URL('./vectors.py', import.meta.url));
    const [result] = JSON.parse(execFileSync('python3', [script], { input: JSON.stringify([pinned]) }).toString());
    expect(result).toEqual({
      accountId: '850FB7_scrpMZCTa2-9WvS_4wM6tHWlKbXs-J-WI5h4',
      sub: 'xemxec4nloren5l7jqiwfgnvznir32cvapzy3nl2f4wqinnysa3a@springfield.example.org',
    });
  });
});
