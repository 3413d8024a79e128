// The pseudonym generation per vendor sector, kept so that a pseudonym a
// patron abandoned never comes back (ARCHITECTURE.md, "pseudonym").
//
// Durable on purpose: the record never expires and survives "forget me",
// unlike the Account record. So that it says nothing about anyone, it is
// keyed by a keyed hash of the accountId, holds no `accountId` field (the
// store's account index, and so findByAccount and "forget me", never see
// it), and names sectors only by keyed hashes that include the accountId (a
// stolen store tells neither which vendors a patron reset nor which patrons
// reset the same vendor).
//
// The generation of a sector is max(sectors[s], floor). A reset raises one
// sector above its current value; "forget me" raises the floor above every
// generation ever used and drops the per-sector entries: every vendor then
// sees a new pseudonym, and both operations only ever go up.
import { createHmac, hkdfSync } from 'node:crypto';
import { lengthPrefixed } from '../crypto/length-prefixed.ts';
import type { Payload, RecordKey, Store } from '../store/store.ts';

export const GENERATION_MODEL = 'PseudonymGeneration';

// What one read of the record says; lets a caller derive several
// pseudonyms from one store read.
export interface GenerationSnapshot {
  of(sector: string): number;
}

interface State {
  floor: number;
  sectors: Record<string, number>;
}

const count = (value: unknown): number =>
  Number.isSafeInteger(value) && (value as number) > 0 ? (value as number) : 0;

function parse(payload: Payload | undefined): State {
  const sectors: Record<string, number> = {};
  const stored = payload?.sectors;
  if (stored && typeof stored === 'object') {
    for (const [key, value] of Object.entries(stored as Record<string, unknown>)) sectors[key] = count(value);
  }
  return { floor: count(payload?.floor), sectors };
}

const toPayload = (state: State): Payload => ({ floor: state.floor, sectors: state.sectors });

export class Generations {
  readonly #store: Store;
  readonly #key: Buffer;

  // Keyed from the pairwise key (which never rotates casually, since it
  // already determines every pseudonym), domain-separated through HKDF.
  constructor(store: Store, pairwiseKey: Buffer) {
    this.#store = store;
    this.#key = Buffer.from(hkdfSync('sha256', pairwiseKey, Buffer.alloc(0), 'patronym pseudonym generations v1', 32));
  }

  #hash(parts: readonly string[]): string {
    return createHmac('sha256', this.#key).update(lengthPrefixed(parts)).digest('base64url');
  }

  #id(accountId: string): string {
    return this.#hash(['account', accountId]);
  }

  #sector(accountId: string, sector: string): string {
    // Lower-cased as derivePseudonym does: one sector, one entry.
    return this.#hash(['sector', accountId, sector.toLowerCase()]);
  }

  async snapshot(accountId: string): Promise<GenerationSnapshot> {
    return this.snapshotOf(accountId, await this.#store.find(GENERATION_MODEL, this.#id(accountId)));
  }

  // Where the record is, for a caller that reads it together with others
  // (Store.findMany), and what that read says.
  keyOf(accountId: string): RecordKey {
    return { model: GENERATION_MODEL, id: this.#id(accountId) };
  }

  snapshotOf(accountId: string, payload: Payload | undefined): GenerationSnapshot {
    const state = parse(payload);
    return { of: (sector) => Math.max(state.sectors[this.#sector(accountId, sector)] ?? 0, state.floor) };
  }

  // The patron's "new pseudonym" for one vendor sector; resolves with the
  // new generation.
  async reset(accountId: string, sector: string): Promise<number> {
    const key = this.#sector(accountId, sector);
    const written = parse(
      await this.#store.update(GENERATION_MODEL, this.#id(accountId), (current) => {
        const state = parse(current);
        state.sectors[key] = Math.max(state.sectors[key] ?? 0, state.floor) + 1;
        return toPayload(state);
      }),
    );
    return written.sectors[key] as number;
  }

  // "Forget me": a new pseudonym at every vendor, never an earlier one.
  async forget(accountId: string): Promise<void> {
    await this.#store.update(GENERATION_MODEL, this.#id(accountId), (current) => {
      const state = parse(current);
      return toPayload({ floor: Math.max(state.floor, ...Object.values(state.sectors)) + 1, sectors: {} });
    });
  }

  // Generations an older version kept inside the Account record (plain
  // sector names): taken over, never lowering anything.
  async absorb(accountId: string, legacy: Readonly<Record<string, number>>): Promise<void> {
    const entries = Object.entries(legacy).map(([sector, n]) => [this.#sector(accountId, sector), count(n)] as const);
    if (entries.length === 0) return;
    await this.#store.update(GENERATION_MODEL, this.#id(accountId), (current) => {
      const state = parse(current);
      for (const [key, n] of entries) state.sectors[key] = Math.max(state.sectors[key] ?? 0, n);
      return toPayload(state);
    });
  }
}
