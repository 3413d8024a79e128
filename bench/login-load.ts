// Complete OIDC sign-ins (authorize → form → code → token) against a running
// broker, at a given concurrency, for a bounded count and time. Prints
// logins/s and latency percentiles. Loopback only.
import { completeLogin, type RunningBroker, startLogin, submitLogin, type Vendor } from '../test/support/broker.ts';

export interface LoadResult {
  concurrency: number;
  logins: number;
  failures: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p95: number;
  p99: number;
  // The first failure's message, to say what went wrong.
  firstFailure?: string;
}

export const percentile = (sorted: number[], p: number) =>
  sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number);

export async function loginLoad(
  b: RunningBroker,
  v: Vendor,
  cards: readonly { card: string; pin: string }[],
  concurrency: number,
  limits: { count: number; seconds: number },
): Promise<LoadResult> {
  const latencies: number[] = [];
  let failures = 0;
  let firstFailure: string | undefined;
  let issued = 0;
  const deadline = performance.now() + limits.seconds * 1000;
  const started = performance.now();
  async function worker(): Promise<void> {
    while (issued < limits.count && performance.now() < deadline) {
      const { card, pin } = cards[issued++ % cards.length] as { card: string; pin: string };
      const t0 = performance.now();
      try {
        const s = await startLogin(v, b.issuer);
        const submitted = await submitLogin(s, b.issuer, card, pin);
        if (!submitted.leftFor) throw new Error(`no code (status ${submitted.response.status})`);
        await completeLogin(v, s, submitted.leftFor);
        latencies.push(performance.now() - t0);
      } catch (error) {
        failures++;
        firstFailure ??= (error as Error).message;
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    concurrency,
    logins: latencies.length,
    failures,
    seconds,
    perSecond: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    ...(firstFailure ? { firstFailure } : {}),
  };
}

export function formatRow(scenario: string, r: LoadResult): string {
  return [
    scenario.padEnd(14),
    String(r.concurrency).padStart(4),
    String(r.logins).padStart(7),
    String(r.failures).padStart(5),
    r.perSecond.toFixed(1).padStart(9),
    r.p50.toFixed(1).padStart(8),
    r.p95.toFixed(1).padStart(8),
    r.p99.toFixed(1).padStart(8),
  ].join(' ');
}

export const HEADER = `${'scenario'.padEnd(14)} conc  logins fails  logins/s  p50 ms   p95 ms   p99 ms`;
