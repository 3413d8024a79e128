// Where a sign-in's CPU goes, request by request (`BENCH_STEPS=1`): each
// provider under test counts the process's CPU time from the moment a
// request arrives to the moment its response is sent, by step of the
// sign-in. Only requests that ran alone count (at concurrency 1 nearly all
// do): two requests in flight at once would each be charged the other's
// work. What is left of the row's CPU is spent between requests (timers,
// write-behind flushes, V8's background threads).
import type { IncomingMessage, Server } from 'node:http';

// Requests and CPU µs, by step.
export type StepCounts = Record<string, [requests: number, cpuUs: number]>;

// The steps the load generator (bench/drive.ts) makes, by method and the
// first segment of the path (bare's sign-in form posts to
// /interaction/:uid, Patronym's to /interaction/:uid/login).
export const STEPS: readonly [key: string, name: string][] = [
  ['GET /auth', 'authorize'],
  ['GET /interaction/*', 'sign-in form'],
  ['POST /interaction/*', 'card + PIN posted'],
  ['GET /auth/*', 'authorize again: the code'],
  ['POST /token', 'token'],
  ['GET /me', 'userinfo'],
];

function stepOf(req: IncomingMessage): string {
  const path = (req.url ?? '').split('?')[0] ?? '';
  const [, first = '', ...rest] = path.split('/');
  return `${req.method} /${first}${rest.length > 0 ? '/*' : ''}`;
}

const cpuUs = (): number => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

// Counts on `server` from now on; the returned function reads the counts.
export function countSteps(server: Server): () => StepCounts {
  const counts: StepCounts = {};
  let inFlight = 0;
  server.prependListener('request', (req: IncomingMessage, res) => {
    const step = stepOf(req);
    const alone = inFlight === 0;
    const start = cpuUs();
    inFlight++;
    res.once('close', () => {
      inFlight--;
      if (!alone || inFlight > 0) return;
      const [requests, us] = counts[step] ?? [0, 0];
      counts[step] = [requests + 1, us + cpuUs() - start];
    });
  });
  return () => structuredClone(counts);
}

// CPU ms per sign-in of each step between two readings, and what is left
// of the row's CPU (`totalMs`) between requests.
export function stepsPerSignIn(
  before: StepCounts,
  after: StepCounts,
  signIns: number,
  totalMs: number,
): { name: string; ms: number }[] {
  const per = (key: string) => ((after[key]?.[1] ?? 0) - (before[key]?.[1] ?? 0)) / 1000 / (signIns || 1);
  const steps = STEPS.map(([key, name]) => ({ name, ms: per(key) }));
  const inRequests = steps.reduce((sum, s) => sum + s.ms, 0);
  return [...steps, { name: 'between requests', ms: totalMs / (signIns || 1) - inRequests }];
}
