// Brute-force protection for card + PIN. Library PINs are often four digits:
// ten thousand guesses open any card. So every attempt is counted *before*
// it is checked: one point per card and one per client address, consumed
// atomically in the store (rate-limiter-flexible over memory, SQLite or
// PostgreSQL, so counts hold across restarts and broker processes). An
// attempt whose consume is refused never reaches the library's system, so
// however many guesses arrive at once, at most `card.lockAfter` per card and
// `address.lockAfter` per address are checked in a window; after that the
// card (or address) stays refused for `lock` seconds, right PIN or not, and
// the ILS never locks the patron out on our account.
//
// Points come back only for attempts that were no wrong guess: a success
// (the card's count starts again, as the patron proved the PIN), an outage
// (the backend did not answer) and a card refused for its status (blocked,
// expired: backends say so only after the right PIN, as the old throttle
// never counted them either). A wrong PIN or an unknown card keeps its
// points.
//
// A browser holding a device cookie for the card (security/device-cookie.ts)
// is counted on that cookie instead of on the card: the card's owner gets
// in while a guesser elsewhere has the card locked, with a small budget of
// its own. Cards, addresses and cookies are counted under keyed hashes only.
//
// Windows and locks run on the wall clock (rate-limiter-flexible's Date.now),
// not on the broker's injectable clock: tests that wait out a lock move Date.
import { type RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import type { Config } from '../config/config.ts';
import type { LimiterOptions, Store } from '../store/store.ts';

export type ThrottleScope = 'card' | 'address';

// What was counted for one attempt: hand it back to succeeded()/refund().
export interface Ticket {
  readonly subject: { readonly limiter: 'card' | 'device'; readonly key: string };
  readonly address: string;
}

export type ThrottleDecision =
  | { kind: 'go'; delayMs: number; ticket: Ticket }
  | { kind: 'locked'; scope: ThrottleScope; retryAfter: number };

export interface AttemptKeys {
  // handles.card(realm, canonical card)
  card: string;
  // handles.address(client address)
  address: string;
  // Set when the request carries a valid device cookie for this card.
  device?: string | undefined;
}

interface Limiters {
  card: RateLimiterAbstract;
  address: RateLimiterAbstract;
  device: RateLimiterAbstract;
}

function limiterOptions(config: Config['throttle']): Record<keyof Limiters, LimiterOptions> {
  const { card, address, deviceCookie } = config;
  return {
    card: { keyPrefix: 'throttle_card', points: card.lockAfter, duration: card.window, blockDuration: card.lock },
    address: {
      keyPrefix: 'throttle_address',
      points: address.lockAfter,
      duration: address.window,
      blockDuration: address.lock,
    },
    device: {
      keyPrefix: 'throttle_device',
      points: deviceCookie.lockAfter,
      duration: card.window,
      blockDuration: card.lock,
    },
  };
}

// rate-limiter-flexible rejects with a RateLimiterRes when the limit is
// reached and with an Error when the store failed; only the first is a "no".
async function consume(limiter: RateLimiterAbstract, key: string): Promise<RateLimiterRes | { refused: number }> {
  try {
    return await limiter.consume(key);
  } catch (error) {
    if (error instanceof RateLimiterRes) return { refused: Math.max(1, Math.ceil(error.msBeforeNext / 1000)) };
    throw error;
  }
}

export class Throttle {
  readonly #limiters: Promise<Limiters>;
  // The same limiters once they are there: an attempt then waits for
  // nothing but its own store writes.
  #ready: Limiters | undefined;
  readonly #delayAfter: number;
  readonly #delayStepMs: number;

  constructor(store: Store, config: Config['throttle'], options: { delayStepMs?: number } = {}) {
    const o = limiterOptions(config);
    this.#limiters = Promise.all([store.limiter(o.card), store.limiter(o.address), store.limiter(o.device)]).then(
      ([card, address, device]) => ({ card, address, device }),
    );
    // A failure surfaces at the first attempt instead of as an unhandled
    // rejection.
    this.#limiters.then(
      (limiters) => {
        this.#ready = limiters;
      },
      () => {},
    );
    this.#delayAfter = config.card.delayAfter;
    this.#delayStepMs = options.delayStepMs ?? 1000;
  }

  // Counts one attempt. `go` means: wait `delayMs`, then ask the backend and
  // report the outcome with the ticket; `locked` means: refuse, ask nobody.
  async attempt(keys: AttemptKeys): Promise<ThrottleDecision> {
    const limiters = this.#ready ?? (await this.#limiters);
    let subject: Ticket['subject'] = { limiter: 'card', key: keys.card };
    let counted: RateLimiterRes | undefined;
    if (keys.device !== undefined) {
      const device = await consume(limiters.device, keys.device);
      // A device cookie that spent its own budget is ignored: the attempt
      // counts as from anywhere else.
      if (!('refused' in device)) {
        counted = device;
        subject = { limiter: 'device', key: keys.device };
      }
    }
    let address: RateLimiterRes | { refused: number };
    if (counted) address = await consume(limiters.address, keys.address);
    else {
      // The card and the address at once: one store round trip (one SQLite
      // commit) for the common attempt. A refused card gives the address its
      // point back: refused, never checked.
      const [card, addressCount] = await Promise.all([
        consume(limiters.card, keys.card),
        consume(limiters.address, keys.address),
      ]);
      if ('refused' in card) {
        if (!('refused' in addressCount)) await limiters.address.reward(keys.address, 1);
        return { kind: 'locked', scope: 'card', retryAfter: card.refused };
      }
      counted = card;
      address = addressCount;
    }
    if ('refused' in address) {
      // Never checked, so not a guess on this card.
      await limiters[subject.limiter].reward(subject.key, 1);
      return { kind: 'locked', scope: 'address', retryAfter: address.refused };
    }
    // Decided by the count this attempt got, so a burst is slowed as much as
    // a sequence: 1, 2, 4, 8, 8… steps after `delayAfter` earlier attempts.
    const over = counted.consumedPoints - 1 - this.#delayAfter;
    const delayMs = over < 0 ? 0 : this.#delayStepMs * 2 ** Math.min(over, 3);
    return { kind: 'go', delayMs, ticket: { subject, address: keys.address } };
  }

  // The right PIN: the card's (or device cookie's) count starts again and the
  // address gets its point back (a library's public computers sign many
  // patrons in). A device-cookie success leaves the card's count alone: the
  // guesser elsewhere stays locked.
  //
  // The two writes come after the check and touch different keys, so they
  // go together: one round trip instead of two, and a store that commits
  // the writes of one moment together (SQLite) commits them once.
  async succeeded(ticket: Ticket): Promise<void> {
    const limiters = this.#ready ?? (await this.#limiters);
    await Promise.all([
      limiters[ticket.subject.limiter].delete(ticket.subject.key),
      limiters.address.reward(ticket.address, 1),
    ]);
  }

  // Not a wrong guess (an outage, a blocked or expired card): the points
  // come back, the count goes on. Both at once, as in succeeded().
  async refund(ticket: Ticket): Promise<void> {
    const limiters = this.#ready ?? (await this.#limiters);
    await Promise.all([
      limiters[ticket.subject.limiter].reward(ticket.subject.key, 1),
      limiters.address.reward(ticket.address, 1),
    ]);
  }
}
