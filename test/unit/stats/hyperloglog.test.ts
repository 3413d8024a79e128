// The sketch against its stated error: known numbers of distinct inputs,
// hashed as the recorder hashes them (HMAC-SHA256 under a random key).
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  deserialise,
  HyperLogLog,
  observe,
  REGISTERS,
  STANDARD_ERROR,
  serialise,
} from '../../../src/stats/hyperloglog.ts';

const hasher = (key: Buffer) => (value: string) => observe(createHmac('sha256', key).update(value).digest());

// Fixed keys: each case is deterministic, so a pass is not luck.
const keyOf = (seed: number): Buffer => createHmac('sha256', 'test keys').update(String(seed)).digest();

function sketchOf(n: number, key = keyOf(n), prefix = 'patron'): HyperLogLog {
  const hash = hasher(key);
  const sketch = new HyperLogLog();
  for (let i = 0; i < n; i++) sketch.add(hash(`${prefix}-${i}`));
  return sketch;
}

describe('HyperLogLog', () => {
  it('states 1.6 % standard error for its 4096 registers', () => {
    expect(REGISTERS).toBe(4096);
    expect(STANDARD_ERROR).toBeCloseTo(0.01625, 5);
  });

  it('counts the smallest numbers exactly (the ones suppression hides) and small ones within the stated error', () => {
    for (let seed = 0; seed < 20; seed++) {
      for (const n of [0, 1, 2, 3, 4, 5]) expect(Math.round(sketchOf(n, keyOf(seed)).estimate())).toBe(n);
      for (const n of [10, 50, 100, 300]) {
        const error = Math.abs(sketchOf(n, keyOf(seed)).estimate() - n);
        expect(error, `n=${n}`).toBeLessThanOrEqual(Math.max(1, 3 * STANDARD_ERROR * n));
      }
    }
  });

  it('keeps every estimate within three standard errors, from a hundred to 200,000', () => {
    for (const n of [100, 1_000, 5_000, 10_000, 20_000, 200_000]) {
      const estimate = sketchOf(n).estimate();
      expect(Math.abs(estimate - n) / n, `n=${n}: ${estimate}`).toBeLessThan(3 * STANDARD_ERROR);
    }
  });

  it('has the stated error over many keys (root mean square, also in the mid range where raw HLL is biased)', () => {
    for (const n of [3_000, 12_000]) {
      const runs = 40;
      let squares = 0;
      let sum = 0;
      for (let run = 0; run < runs; run++) {
        const relative = sketchOf(n, keyOf(1000 * n + run)).estimate() / n - 1;
        squares += relative ** 2;
        sum += relative;
      }
      const rmse = Math.sqrt(squares / runs);
      // 40 runs estimate the error itself within about ±25 %.
      expect(rmse, `n=${n}`).toBeLessThan(1.3 * STANDARD_ERROR);
      expect(Math.abs(sum / runs), `bias at n=${n}`).toBeLessThan(STANDARD_ERROR);
    }
  });

  it('counts a repeated input once', () => {
    const key = keyOf(7);
    const once = sketchOf(1_000, key);
    const twice = sketchOf(1_000, key).merge(sketchOf(1_000, key));
    expect(twice.registers).toEqual(once.registers);
  });

  it('merges to exactly the sketch of the union, in any order', () => {
    const key = keyOf(7);
    const hash = hasher(key);
    const a = new HyperLogLog();
    const b = new HyperLogLog();
    const union = new HyperLogLog();
    for (let i = 0; i < 3_000; i++) {
      const h = hash(`p-${i}`);
      if (i < 2_000) a.add(h);
      if (i >= 1_000) b.add(h);
      union.add(h);
    }
    const ab = new HyperLogLog().merge(a).merge(b);
    const ba = new HyperLogLog().merge(b).merge(a);
    expect(ab.registers).toEqual(union.registers);
    expect(ba.registers).toEqual(union.registers);
    expect(Math.abs(ab.estimate() - 3_000) / 3_000).toBeLessThan(3 * STANDARD_ERROR);
  });

  it('serialises sparse while few registers are set and dense after, both round-tripping', () => {
    for (const n of [0, 1, 30, 1_000, 2_000, 50_000]) {
      const sketch = sketchOf(n);
      const text = serialise(sketch);
      expect(deserialise(text).registers).toEqual(sketch.registers);
      const set = sketch.registers.filter((r) => r > 0).length;
      expect(Buffer.from(text, 'base64').length).toBe(set * 3 < REGISTERS ? set * 3 : REGISTERS);
    }
    // A small day stays small in the store.
    expect(serialise(sketchOf(30)).length).toBeLessThan(200);
  });

  it('reads a pinned serialisation (the stored format must not drift)', () => {
    const sketch = new HyperLogLog().add({ index: 0, rank: 1 }).add({ index: 4095, rank: 53 });
    expect(serialise(sketch)).toBe('AAABA//1');
    expect(deserialise('AAABA//1').registers[4095]).toBe(53);
    expect(() => deserialise('AAAAAA==')).toThrow(/not a serialised sketch/);
  });

  it('takes the register from the top 12 bits and the rank from the leading zeros after them', () => {
    const hash = Buffer.alloc(8);
    hash.writeUInt32BE(0xfff80000, 0); // index 4095, then a 1 bit: rank 1
    expect(observe(hash)).toEqual({ index: 4095, rank: 1 });
    hash.writeUInt32BE(0x00100000, 0); // index 1, then 20 zero bits of the first word, then 32 of the second
    expect(observe(hash)).toEqual({ index: 1, rank: 53 });
    hash.writeUInt32BE(0x00000400, 0); // index 0, then 9 zeros and a 1
    expect(observe(hash)).toEqual({ index: 0, rank: 10 });
    hash.writeUInt32BE(0, 0);
    hash.writeUInt32BE(1, 4); // 20 + 31 zeros, then 1
    expect(observe(hash)).toEqual({ index: 0, rank: 52 });
    hash.writeUInt32BE(0, 4);
    expect(observe(hash)).toEqual({ index: 0, rank: 53 });
  });

  it('merges commutatively, associatively and idempotently, and round-trips any sketch (property)', () => {
    const observation = fc.record({
      index: fc.integer({ min: 0, max: REGISTERS - 1 }),
      rank: fc.integer({ min: 1, max: 53 }),
    });
    const sketch = fc.array(observation, { maxLength: 3000 }).map((os) => {
      const s = new HyperLogLog();
      for (const o of os) s.add(o);
      return s;
    });
    const copy = (s: HyperLogLog) => new HyperLogLog(new Uint8Array(s.registers));
    fc.assert(
      fc.property(sketch, sketch, sketch, (a, b, c) => {
        expect(copy(a).merge(b).registers).toEqual(copy(b).merge(a).registers);
        expect(copy(a).merge(b).merge(c).registers).toEqual(copy(a).merge(copy(b).merge(c)).registers);
        expect(copy(a).merge(a).registers).toEqual(a.registers);
        expect(deserialise(serialise(a)).registers).toEqual(a.registers);
      }),
      { numRuns: 200 },
    );
  });
});

// serialise() reads the registers four at a time and writes entries byte by
// byte (it runs twice per sign-in, issue 18): the same text as the format's
// plain definition, for any sketch, also over registers that are a view at
// an odd offset into a larger buffer.
describe('HyperLogLog serialisation against its definition', () => {
  const reference = (registers: Uint8Array): string => {
    const set = [...registers.keys()].filter((i) => registers[i]);
    if (set.length * 3 >= REGISTERS) return Buffer.from(registers).toString('base64');
    const out = Buffer.alloc(set.length * 3);
    set.forEach((index, n) => {
      out.writeUIntBE((index << 6) | (registers[index] ?? 0), n * 3, 3);
    });
    return out.toString('base64');
  };

  it('writes what the definition writes and reads it back (property)', () => {
    const registers = fc
      .array(fc.record({ index: fc.integer({ min: 0, max: REGISTERS - 1 }), rank: fc.integer({ min: 1, max: 53 }) }), {
        maxLength: 4000,
      })
      .map((os) => {
        const s = new HyperLogLog();
        for (const o of os) s.add(o);
        return s.registers;
      });
    fc.assert(
      fc.property(registers, fc.integer({ min: 0, max: 3 }), (r, offset) => {
        const view = new Uint8Array(REGISTERS + 3).subarray(offset, offset + REGISTERS);
        view.set(r);
        const text = serialise(new HyperLogLog(view));
        expect(text).toBe(reference(r));
        expect(deserialise(text).registers).toEqual(r);
      }),
      { numRuns: 300 },
    );
  });
});
