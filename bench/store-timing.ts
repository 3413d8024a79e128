// How much of a sign-in is spent waiting for the store: every Store call
// and every call on the limiters it hands out is timed (wall time from call
// to answer, so concurrent calls each count their own wait).
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterSQLite } from 'rate-limiter-flexible';
import type { Store } from '../src/store/store.ts';

const STORE_METHODS = [
  'upsert',
  'find',
  'update',
  'findByUid',
  'findByUserCode',
  'consume',
  'destroy',
  'revokeByGrantId',
  'findByAccount',
  'list',
  'increment',
] as const;
const LIMITER_METHODS = ['consume', 'penalty', 'reward', 'get', 'set', 'delete', 'block'] as const;

export interface StoreTiming {
  ms: number;
  calls: number;
  reset(): void;
}

// Replaces the methods on this one object (the broker holds the same
// object, so its calls are timed); nothing else changes.
export function timeStore(store: Store): StoreTiming {
  const timing: StoreTiming = {
    ms: 0,
    calls: 0,
    reset() {
      timing.ms = 0;
      timing.calls = 0;
    },
  };
  // The methods differ in signature; each is called with its own arguments.
  type Callable = (...args: unknown[]) => Promise<unknown>;
  const wrap = (target: Record<string, unknown>, name: string) => {
    const original = (target[name] as Callable).bind(target);
    target[name] = async (...args: unknown[]) => {
      const t0 = performance.now();
      try {
        return await original(...args);
      } finally {
        timing.ms += performance.now() - t0;
        timing.calls++;
      }
    };
  };
  const object = store as unknown as Record<string, unknown>;
  for (const name of STORE_METHODS) wrap(object, name);
  // The throttle asks for its limiters when the broker is built, before
  // this runs: their classes' methods are timed instead (one timing per
  // process, the last one asked for).
  for (const Limiter of [RateLimiterPostgres, RateLimiterSQLite, RateLimiterMemory]) {
    const proto = Limiter.prototype as unknown as Record<string, unknown>;
    for (const name of LIMITER_METHODS) {
      const original = (proto[`__untimed_${name}`] ?? proto[name]) as Callable;
      proto[`__untimed_${name}`] = original;
      proto[name] = async function (this: unknown, ...args: unknown[]) {
        const t0 = performance.now();
        try {
          return await original.apply(this, args);
        } finally {
          timing.ms += performance.now() - t0;
          timing.calls++;
        }
      };
    }
  }
  return timing;
}
