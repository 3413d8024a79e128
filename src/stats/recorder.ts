// Counts a sign-in reaching a vendor: one atomic store update per sign-in,
// on the record of (day, library, vendor). The record holds the day's
// sign-in count and two sketches fed with keyed hashes of the accountId:
// one under the day's key (distinct patrons that day) and one under the
// month's key (merged over the month's days at read time, so a patron seen
// on several days of one month counts once). Neither the accountId nor a
// hash of it under a lasting key is written: only register maxima.
import type { Payload, Store } from '../store/store.ts';
import { deserialise, type Observation, observe, serialise } from './hyperloglog.ts';
import type { PeriodKeys } from './period-keys.ts';

// One model per month ("StatsDay/2026-12"), so a report reads only the
// months it covers.
const DAY_MODEL_PREFIX = 'StatsDay/';
export const dayModel = (month: string): string => `${DAY_MODEL_PREFIX}${month}`;
const dayRecordId = (day: string, library: string, vendor: string): string => JSON.stringify([day, library, vendor]);

export interface DayRecord {
  day: string;
  library: string;
  vendor: string;
  signIns: number;
  // Serialised sketches (hyperloglog.ts) under the day's and the month's key.
  dayPatrons: string;
  monthPatrons: string;
}

export function asDayRecord(payload: Payload): DayRecord | undefined {
  const { day, library, vendor, signIns, dayPatrons, monthPatrons } = payload;
  if (typeof day !== 'string' || typeof library !== 'string' || typeof vendor !== 'string') return undefined;
  return {
    day,
    library,
    vendor,
    signIns: typeof signIns === 'number' ? signIns : 0,
    dayPatrons: typeof dayPatrons === 'string' ? dayPatrons : '',
    monthPatrons: typeof monthPatrons === 'string' ? monthPatrons : '',
  };
}

// Pure: what the record becomes with one more sign-in (a store may run it
// again on conflict).
function addSignIn(
  current: Payload | undefined,
  key: { day: string; library: string; vendor: string },
  inDay: Observation,
  inMonth: Observation,
): DayRecord {
  const before = current ? asDayRecord(current) : undefined;
  return {
    ...key,
    signIns: (before?.signIns ?? 0) + 1,
    dayPatrons: serialise(deserialise(before?.dayPatrons).add(inDay)),
    monthPatrons: serialise(deserialise(before?.monthPatrons).add(inMonth)),
  };
}

export class StatsRecorder {
  readonly #store: Store;
  readonly #keys: PeriodKeys;
  readonly #retentionSeconds: number;

  constructor(store: Store, keys: PeriodKeys, retentionDays: number) {
    this.#store = store;
    this.#keys = keys;
    this.#retentionSeconds = retentionDays * 24 * 3600;
  }

  async record(library: string, vendor: string, accountId: string): Promise<void> {
    const day = await this.#keys.current('day');
    const month = await this.#keys.current('month');
    // Hashed here, outside the update: the store's transaction holds only
    // register maxima, and the accountId goes no further than this line.
    const inDay = observe(day.hash(accountId));
    const inMonth = observe(month.hash(accountId));
    const key = { day: day.period.id, library, vendor };
    await this.#store.update(
      dayModel(day.period.id.slice(0, 7)),
      dayRecordId(key.day, library, vendor),
      (current) => ({ ...addSignIn(current, key, inDay, inMonth) }),
      this.#retentionSeconds,
    );
  }

  close(): void {
    this.#keys.close();
  }
}
