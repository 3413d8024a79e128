// A HyperLogLog sketch (Flajolet et al. 2007) with Ertl's improved estimator
// ("New cardinality estimation algorithms for HyperLogLog sketches", 2017,
// algorithm 6): one formula over the whole range, no bias tables, a
// relative standard error of 1.04/√m. Written here rather than taken from
// npm because the sketches live in the store for years and are merged by
// every broker instance: the serialisation below is ours to keep stable,
// and the candidates pull in native murmurhash or a whole toolbox.
//
// The caller hashes (a keyed HMAC, see period-keys.ts); the sketch only
// takes 64-bit hashes, so it never sees an accountId.
import { PatronymError } from '../errors.ts';

// 2^12 registers: 1.6 % standard error, 4 KiB dense.
const PRECISION = 12;
export const REGISTERS = 1 << PRECISION;
export const STANDARD_ERROR = 1.04 / Math.sqrt(REGISTERS);
// Hash bits left after the register index, and the largest rank possible.
const Q = 64 - PRECISION;

// Where one 64-bit hash lands: the register and the rank it may raise.
export interface Observation {
  index: number;
  rank: number;
}

// The first 8 bytes of `hash`, big-endian: index from the top PRECISION
// bits, rank = 1 + leading zeros of the remaining Q bits (Q + 1 when all zero).
export function observe(hash: Uint8Array): Observation {
  if (hash.length < 8) throw new RangeError('hyperloglog: a hash needs at least 8 bytes');
  const view = new DataView(hash.buffer, hash.byteOffset, 8);
  const high = view.getUint32(0);
  const low = view.getUint32(4);
  const index = high >>> (32 - PRECISION);
  const restHigh = (high << PRECISION) >>> 0; // the Q - 32 bits after the index, left-aligned
  let rank: number;
  if (restHigh !== 0) rank = Math.clz32(restHigh) + 1;
  else if (low !== 0) rank = 32 - PRECISION + Math.clz32(low) + 1;
  else rank = Q + 1;
  return { index, rank };
}

export class HyperLogLog {
  readonly registers: Uint8Array;

  constructor(registers: Uint8Array = new Uint8Array(REGISTERS)) {
    if (registers.length !== REGISTERS) throw new RangeError(`hyperloglog: expected ${REGISTERS} registers`);
    this.registers = registers;
  }

  add({ index, rank }: Observation): this {
    if ((this.registers[index] ?? 0) < rank) this.registers[index] = rank;
    return this;
  }

  // Register-wise maximum: commutative, associative and idempotent, so
  // instances and days merge in any order, any number of times.
  merge(other: HyperLogLog): this {
    for (let i = 0; i < REGISTERS; i++) {
      const r = other.registers[i] ?? 0;
      if ((this.registers[i] ?? 0) < r) this.registers[i] = r;
    }
    return this;
  }

  estimate(): number {
    const counts = new Array<number>(Q + 2).fill(0);
    for (const r of this.registers) counts[r] = (counts[r] ?? 0) + 1;
    const m = REGISTERS;
    let z = m * tau(1 - (counts[Q + 1] ?? 0) / m);
    for (let k = Q; k >= 1; k--) z = 0.5 * (z + (counts[k] ?? 0));
    z += m * sigma((counts[0] ?? 0) / m);
    return (m * m) / (2 * Math.LN2 * z);
  }
}

function sigma(x: number): number {
  if (x === 1) return Number.POSITIVE_INFINITY;
  let y = 1;
  let z = x;
  let previous: number;
  do {
    x *= x;
    previous = z;
    z += x * y;
    y += y;
  } while (z !== previous);
  return z;
}

function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let y = 1;
  let z = 1 - x;
  let previous: number;
  do {
    x = Math.sqrt(x);
    previous = z;
    y *= 0.5;
    z -= (1 - x) ** 2 * y;
  } while (z !== previous);
  return z / 3;
}

// Serialised as base64 of either the dense registers (exactly REGISTERS
// bytes) or, while few registers are set, sparse 3-byte entries
// (index << 6 | rank, big-endian; fewer than REGISTERS / 3 of them): a
// day's sketch of a small library stays a few hundred bytes in the store.
// The two are told apart by length (REGISTERS is not a multiple of 3).
export function serialise(sketch: HyperLogLog): string {
  // Runs twice per record written (the day's and the month's sketch): the
  // registers are read four at a time where they are aligned, so that the
  // empty ones of a sparse sketch cost little, and entries are written byte
  // by byte.
  const registers = sketch.registers;
  const words =
    registers.byteOffset % 4 === 0 ? new Uint32Array(registers.buffer, registers.byteOffset, REGISTERS / 4) : undefined;
  const empty = (w: number) => words !== undefined && words[w] === 0;
  let set = 0;
  for (let w = 0; w < REGISTERS / 4; w++) {
    if (empty(w)) continue;
    for (let i = w * 4; i < w * 4 + 4; i++) if (registers[i]) set++;
  }
  if (set * 3 >= REGISTERS) return Buffer.from(registers.buffer, registers.byteOffset, REGISTERS).toString('base64');
  const out = Buffer.allocUnsafe(set * 3);
  let at = 0;
  for (let w = 0; w < REGISTERS / 4; w++) {
    if (empty(w)) continue;
    for (let i = w * 4; i < w * 4 + 4; i++) {
      const rank = registers[i] as number;
      if (rank === 0) continue;
      const entry = (i << 6) | rank;
      out[at] = entry >>> 16;
      out[at + 1] = (entry >>> 8) & 0xff;
      out[at + 2] = entry & 0xff;
      at += 3;
    }
  }
  return out.toString('base64');
}

export function deserialise(text: unknown): HyperLogLog {
  const sketch = new HyperLogLog();
  if (typeof text !== 'string' || text === '') return sketch;
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length === REGISTERS) {
    sketch.registers.set(bytes);
  } else if (bytes.length % 3 === 0 && bytes.length < REGISTERS) {
    const registers = sketch.registers;
    for (let n = 0; n < bytes.length; n += 3) {
      const entry = ((bytes[n] as number) << 16) | ((bytes[n + 1] as number) << 8) | (bytes[n + 2] as number);
      const index = entry >>> 6;
      const rank = entry & 0x3f;
      if ((registers[index] as number) < rank) registers[index] = rank;
    }
  } else {
    throw new PatronymError(
      'stats_sketch_invalid',
      `hyperloglog: not a serialised sketch: ${bytes.length} bytes, expected ${REGISTERS} or a multiple of 3 below it`,
    );
  }
  return sketch;
}
