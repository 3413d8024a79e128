// Counts a sign-in reaching a vendor on the record of (day, library,
// vendor), written at most once a second per record. The record holds the day's
// sign-in count and two sketches fed with keyed hashes of the accountId:
// one under the day's key (distinct patrons that day) and one under the
// month's key (merged over the month's days at read time, so a patron seen
// on several days of one month counts once). Neither the accountId nor a
// hash of it under a lasting key is written: only register maxima.
//
// Why batched: the record holds two serialised sketches (up to ~11 kB of
// JSON); reading, parsing, changing and writing it at every sign-in cost
// ~0.7 ms of CPU per sign-in (issue 18). Counts add and registers merge by
// maximum, so what is kept in memory (per record: a count and two sketches'
// registers, never an accountId) merges into the stored record exactly, in
// any order, by any number of workers and instances, each flushing its own.
// The price: a process killed without close() (kill -9, a crash) loses up
// to one second of its counts.
import type { Logger } from '../log.ts';
import type { Payload, Store } from '../store/store.ts';
import { deserialise, HyperLogLog, observe, serialise } from './hyperloglog.ts';
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

// Sign-ins counted in memory since the last flush, for one record.
interface Pending {
  model: string;
  id: string;
  key: { day: string; library: string; vendor: string };
  signIns: number;
  dayPatrons: HyperLogLog;
  monthPatrons: HyperLogLog;
}

// Pure: what the record becomes with the pending sign-ins merged in (a
// store may run it again on conflict, so `pending` is only read).
function mergeInto(current: Payload | undefined, pending: Pending): DayRecord {
  const before = current ? asDayRecord(current) : undefined;
  return {
    ...pending.key,
    signIns: (before?.signIns ?? 0) + pending.signIns,
    dayPatrons: serialise(deserialise(before?.dayPatrons).merge(pending.dayPatrons)),
    monthPatrons: serialise(deserialise(before?.monthPatrons).merge(pending.monthPatrons)),
  };
}

function absorb(into: Pending, from: Pending): void {
  into.signIns += from.signIns;
  into.dayPatrons.merge(from.dayPatrons);
  into.monthPatrons.merge(from.monthPatrons);
}

// Recorders with counts not yet written, in this process: a read of the
// statistics (report.ts) flushes them first, so /stats and a test reading
// right after a sign-in see it. Another process (`patronym stats` beside a
// running broker) sees what the brokers flushed, at most a second old.
const unflushed = new Set<StatsRecorder>();

export async function flushStats(): Promise<void> {
  await Promise.all([...unflushed].map((recorder) => recorder.flush()));
}

export interface RecorderOptions {
  log?: Logger | undefined;
  // Milliseconds between flushes.
  interval?: number;
  // Records with pending counts at most: each holds two 4 KiB sketches, so
  // 1,000 is 8 MiB. Reached only when the store keeps failing (a busy
  // broker has a few dozen library × vendor pairs a second): sign-ins for
  // further records are then dropped with one log line, rather than
  // holding memory without bound for a store that may not come back;
  // records already pending keep counting in place, at no extra memory.
  // (Records of a failed flush come back beside those begun meanwhile, so
  // the bound is twice this at worst.)
  maxPending?: number;
}

export class StatsRecorder {
  readonly #store: Store;
  readonly #keys: PeriodKeys;
  readonly #retentionSeconds: number;
  readonly #log: Logger | undefined;
  readonly #interval: number;
  readonly #maxPending: number;
  #pending = new Map<string, Pending>();
  #timer: NodeJS.Timeout | undefined;
  // Flushes run one after another: a reader's flush waits for the timer's.
  #flushing: Promise<void> = Promise.resolve();
  #failing = false;
  #dropping = false;

  constructor(store: Store, keys: PeriodKeys, retentionDays: number, options: RecorderOptions = {}) {
    this.#store = store;
    this.#keys = keys;
    this.#retentionSeconds = retentionDays * 24 * 3600;
    this.#log = options.log;
    this.#interval = options.interval ?? 1000;
    this.#maxPending = options.maxPending ?? 1000;
  }

  // Records with counts not yet written.
  get pendingKeys(): number {
    return this.#pending.size;
  }

  async record(library: string, vendor: string, accountId: string): Promise<void> {
    const day = await this.#keys.current('day');
    const month = await this.#keys.current('month');
    // Hashed here: only the registers' observations are kept, and the
    // accountId goes no further than these lines. The day's keys are the
    // ones of the sign-in's day, and so is the record's key, so a pending
    // record crossing midnight still lands on its own day.
    const inDay = observe(day.hash(accountId));
    const inMonth = observe(month.hash(accountId));
    const id = dayRecordId(day.period.id, library, vendor);
    let pending = this.#pending.get(id);
    if (!pending) {
      if (this.#pending.size >= this.#maxPending) {
        if (!this.#dropping) {
          this.#dropping = true;
          this.#log?.error(
            { event: 'stats_dropped', pending: this.#pending.size },
            `stats: ${this.#pending.size} records already wait to be written; sign-ins for others are not counted until they are`,
          );
        }
        return;
      }
      pending = {
        model: dayModel(day.period.id.slice(0, 7)),
        id,
        key: { day: day.period.id, library, vendor },
        signIns: 0,
        dayPatrons: new HyperLogLog(),
        monthPatrons: new HyperLogLog(),
      };
      this.#pending.set(id, pending);
    }
    pending.signIns++;
    pending.dayPatrons.add(inDay);
    pending.monthPatrons.add(inMonth);
    unflushed.add(this);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.flush();
    }, this.#interval);
    // A pending flush never keeps the process alive: close() flushes.
    this.#timer.unref();
  }

  // Writes every pending record with one atomic update each. Never
  // rejects: a record whose update failed goes back to the pending ones
  // (merged with what came meanwhile) for the next flush.
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#flushOnce());
    return this.#flushing;
  }

  async #flushOnce(): Promise<void> {
    if (this.#pending.size === 0) return;
    const batch = this.#pending;
    this.#pending = new Map();
    const results = await Promise.allSettled(
      [...batch.values()].map((pending) =>
        this.#store.update(
          pending.model,
          pending.id,
          (current) => ({ ...mergeInto(current, pending) }),
          this.#retentionSeconds,
        ),
      ),
    );
    const pendings = [...batch.values()];
    let failure: unknown;
    results.forEach((result, i) => {
      if (result.status === 'fulfilled') return;
      failure ??= result.reason;
      const pending = pendings[i] as Pending;
      const since = this.#pending.get(pending.id);
      if (since) absorb(pending, since);
      this.#pending.set(pending.id, pending);
    });
    if (failure === undefined) {
      this.#dropping = false;
      if (this.#failing) this.#log?.info({ event: 'stats_flush_recovered' }, 'stats: pending sign-ins written again');
      this.#failing = false;
    } else if (!this.#failing) {
      // Once per failing spell, not once a second.
      this.#failing = true;
      this.#log?.error(
        { event: 'stats_flush_failed', err: failure, pending: this.#pending.size },
        'stats: sign-ins not written yet; kept for the next try',
      );
    }
    if (this.#pending.size === 0) unflushed.delete(this);
    else this.#schedule();
  }

  // Writes what is pending (the broker's shutdown awaits it), then stops.
  async close(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.flush();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.size > 0) {
      this.#log?.error(
        { event: 'stats_lost', pending: this.#pending.size },
        `stats: sign-ins of ${this.#pending.size} records not written at shutdown`,
      );
    }
    this.#pending.clear();
    unflushed.delete(this);
    this.#keys.close();
  }
}
