// The keyed hash that feeds the sketches, one key per period. Each key comes
// from a random secret created by whichever instance first needs it, kept in
// the store (so every instance feeding one period's sketches hashes alike)
// and expiring when its period ends: once it is gone, no one — not the
// sysadmin, not someone holding the database and every accountId — can tell
// which registers a patron raised in that period, so two periods' sketches
// cannot be joined to follow a patron over time.
import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { Store } from '../store/store.ts';
import { type Granularity, type Period, periodOf } from './period.ts';

export const KEY_MODEL = 'StatsKey';

interface CachedKey {
  period: Period;
  key: Buffer;
}

export class PeriodKeys {
  readonly #store: Store;
  readonly #now: () => number;
  // The current key of each granularity, so a sign-in costs no store read
  // for it. Dropped when its period ends (at the next use, or by the timer
  // for an idle process), so a running broker forgets it too.
  readonly #cache = new Map<Granularity, CachedKey>();
  readonly #timers = new Set<NodeJS.Timeout>();

  constructor(store: Store, now: () => number = Date.now) {
    this.#store = store;
    this.#now = now;
  }

  // The period containing `at` (now by default) and its hashing function.
  async current(granularity: Granularity): Promise<{ period: Period; hash: (accountId: string) => Buffer }> {
    const now = this.#now();
    let cached = this.#cache.get(granularity);
    if (!cached || now >= cached.period.end || now < cached.period.start) {
      this.#cache.delete(granularity);
      const period = periodOf(granularity, now);
      cached = { period, key: await this.#load(period, now) };
      this.#cache.set(granularity, cached);
      this.#forgetAt(granularity, cached);
    }
    const { key, period } = cached;
    return { period, hash: (accountId) => createHmac('sha256', key).update(accountId, 'utf8').digest() };
  }

  async #load(period: Period, now: number): Promise<Buffer> {
    // Created atomically: of two instances starting a period together, one
    // secret is written and both use it. The expiry is set again by each
    // update to the same instant: the period's end.
    const expiresIn = Math.max(1, Math.ceil((period.end - now) / 1000));
    const payload = await this.#store.update(
      KEY_MODEL,
      `${period.granularity}:${period.id}`,
      (current) => (typeof current?.secret === 'string' ? current : { secret: randomBytes(32).toString('base64url') }),
      expiresIn,
    );
    const secret = Buffer.from(String(payload.secret), 'base64url');
    return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), `patronym stats v1 ${period.id}`, 32));
  }

  #forgetAt(granularity: Granularity, cached: CachedKey): void {
    const timer = setTimeout(
      () => {
        this.#timers.delete(timer);
        if (this.#cache.get(granularity) === cached) this.#cache.delete(granularity);
      },
      Math.min(2 ** 31 - 1, Math.max(0, cached.period.end - this.#now())),
    );
    timer.unref();
    this.#timers.add(timer);
  }

  close(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#cache.clear();
  }
}
