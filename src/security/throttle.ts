// Brute-force protection for card + PIN. Library PINs are often four digits:
// ten thousand guesses open any card, so failures are counted per card and
// per client address, in the store (they hold across restarts and, with a
// shared store, across instances). After a few failures a card's answers
// slow down; after more it is locked for a while and even the right PIN is
// refused, without asking the library's system (so the ILS never locks the
// patron out on our account). Cards and addresses are counted under keyed
// hashes only.
import type { Config } from '../config/load.ts';
import type { Store } from '../store/store.ts';

export type ThrottleDecision =
  | { kind: 'go'; delayMs: number }
  | { kind: 'locked'; scope: 'card' | 'address'; retryAfter: number };

const COUNT = 'Throttle';
const LOCK = 'ThrottleLock';

export class Throttle {
  readonly #store: Store;
  readonly #config: Config['throttle'];
  readonly #now: () => number;
  readonly #delayStepMs: number;

  constructor(store: Store, config: Config['throttle'], options: { now?: () => number; delayStepMs?: number } = {}) {
    this.#store = store;
    this.#config = config;
    this.#now = options.now ?? Date.now;
    this.#delayStepMs = options.delayStepMs ?? 1000;
  }

  async #lockedFor(id: string): Promise<number> {
    const lock = await this.#store.find(LOCK, id);
    const until = Number(lock?.until ?? 0);
    return Math.max(0, Math.ceil((until - this.#now()) / 1000));
  }

  async check(cardKey: string, addressKey: string): Promise<ThrottleDecision> {
    const address = await this.#lockedFor(`address:${addressKey}`);
    if (address > 0) return { kind: 'locked', scope: 'address', retryAfter: address };
    const card = await this.#lockedFor(`card:${cardKey}`);
    if (card > 0) return { kind: 'locked', scope: 'card', retryAfter: card };
    const failures = Number((await this.#store.find(COUNT, `card:${cardKey}`))?.n ?? 0);
    const over = failures - this.#config.card.delayAfter;
    // 1, 2, 4, 8, 8… steps: a patron with a typo barely notices; a guesser
    // is slowed long before the lock.
    return { kind: 'go', delayMs: over < 0 ? 0 : this.#delayStepMs * 2 ** Math.min(over, 3) };
  }

  async #lock(id: string, seconds: number): Promise<void> {
    await this.#store.upsert(LOCK, id, { until: this.#now() + seconds * 1000 }, seconds);
  }

  // A wrong PIN or an unknown card.
  async failed(cardKey: string, addressKey: string): Promise<void> {
    const { card, address } = this.#config;
    const cardFailures = await this.#store.increment(COUNT, `card:${cardKey}`, card.window);
    if (cardFailures >= card.lockAfter) {
      await this.#lock(`card:${cardKey}`, card.lock);
      await this.#store.destroy(COUNT, `card:${cardKey}`);
    }
    const addressFailures = await this.#store.increment(COUNT, `address:${addressKey}`, address.window);
    if (addressFailures >= address.lockAfter) {
      await this.#lock(`address:${addressKey}`, address.lock);
      await this.#store.destroy(COUNT, `address:${addressKey}`);
    }
  }

  async succeeded(cardKey: string): Promise<void> {
    await this.#store.destroy(COUNT, `card:${cardKey}`);
  }
}
