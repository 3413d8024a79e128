// The load generator, in its own process so that its CPU is neither the
// broker's nor hidden in it: `node bench/drive.ts '<json DriveOptions>'`
// runs whole sign-ins as a browser and a vendor make them (authorize →
// sign-in form → POST card + PIN → code → token with client_secret_basic →
// ID token verified → userinfo) at a given concurrency, bounded in count
// and time, against one or more loopback origins, and prints one line of
// JSON: the result and its own CPU time. Its requests go through node:http
// with keep-alive (bench/walk.ts says why not fetch).
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, realpathSync } from 'node:fs';
import { Agent } from 'node:http';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { formField } from '../test/support/broker.ts';
import { type LoadResult, percentile } from './login-load.ts';
import { browserWalk, send } from './walk.ts';

export interface DriveOptions {
  // Sign-ins go to each origin in turn (with `issuers`, each worker keeps
  // to one origin: see drive()).
  origins: string[];
  issuer: string;
  // Origins of different providers (bench/compare.ts, interleaved rounds):
  // each its own issuer, discovery and keys, in the order of `origins`.
  issuers?: string[];
  client: { id: string; secret: string; redirect: string };
  cards: { card: string; pin: string }[];
  concurrency: number;
  count: number;
  seconds: number;
}

export interface DriveResult extends LoadResult {
  cpuMs: number;
  // Each origin's own figures, in the order of `origins`.
  byOrigin: LoadResult[];
}

// Figures of a set of sign-ins (latencies in ms, in any order).
function summary(concurrency: number, latencies: number[], failures: number, seconds: number): LoadResult {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    concurrency,
    logins: sorted.length,
    failures,
    seconds,
    perSecond: sorted.length / seconds,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
  };
}

// The endpoints' paths, from discovery (the same on every origin).
interface Endpoints {
  token: string;
  userinfo: string;
  jwks: JwksFn;
}

async function discover(origin: string, agent: Agent): Promise<Endpoints> {
  const meta = JSON.parse((await send(`${origin}/.well-known/openid-configuration`, {}, agent)).body) as Record<
    string,
    string
  >;
  const path = (url: string | undefined) => new URL(url ?? '').pathname;
  return {
    token: path(meta.token_endpoint),
    userinfo: path(meta.userinfo_endpoint),
    jwks: createRemoteJWKSet(new URL(`${origin}${path(meta.jwks_uri)}`)),
  };
}

// A request's failure, named by the step of the sign-in it was.
const step = <T>(name: string, request: Promise<T>): Promise<T> =>
  request.catch((error: unknown) => {
    throw new Error(`${name}: ${(error as Error).message}`);
  });

async function signIn(
  o: DriveOptions,
  origin: string,
  issuer: string,
  card: string,
  pin: string,
  e: Endpoints,
  agents: Agents,
): Promise<void> {
  const verifier = randomBytes(32).toString('base64url');
  const nonce = randomBytes(16).toString('base64url');
  const query = new URLSearchParams({
    client_id: o.client.id,
    response_type: 'code',
    redirect_uri: o.client.redirect,
    scope: 'openid',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state: randomBytes(8).toString('base64url'),
    nonce,
  });
  const walk = browserWalk(origin, o.client.redirect, agents.browser);
  const page = await step('authorize', walk(`${origin}/auth?${query}`));
  const action = /action="([^"]+)"/.exec(page.body)?.[1];
  if (!action) throw new Error(`no form (status ${page.status})`);
  const done = await step(
    'sign-in form',
    walk(`${origin}${action.replace(/&amp;/g, '&')}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: formField(page.body, 'csrf') ?? '', card, pin }).toString(),
    }),
  );
  if (!done.code) throw new Error(`no code (status ${done.status})`);
  const basic = Buffer.from(`${encodeURIComponent(o.client.id)}:${encodeURIComponent(o.client.secret)}`);
  const token = await step(
    'token',
    send(
      `${origin}${e.token}`,
      {
        method: 'POST',
        headers: {
          authorization: `Basic ${basic.toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: done.code,
          redirect_uri: o.client.redirect,
          code_verifier: verifier,
        }).toString(),
      },
      agents.vendor,
    ),
  );
  const body = JSON.parse(token.body) as { id_token?: string; access_token?: string };
  if (!body.id_token || !body.access_token) throw new Error(`token ${token.status} ${token.body.slice(0, 160)}`);
  const { payload } = await jwtVerify(body.id_token, e.jwks, { issuer, audience: o.client.id });
  if (payload.nonce !== nonce) throw new Error('id token: wrong nonce');
  const userinfo = await step(
    'userinfo',
    send(`${origin}${e.userinfo}`, { headers: { authorization: `Bearer ${body.access_token}` } }, agents.vendor),
  );
  const claims = JSON.parse(userinfo.body) as { sub?: string };
  if (claims.sub !== payload.sub) throw new Error(`userinfo ${userinfo.status} ${userinfo.body.slice(0, 160)}`);
}

type JwksFn = ReturnType<typeof createRemoteJWKSet>;

// The browser's requests and the vendor's (token, userinfo) go on
// connections of their own, as a vendor's server makes them: under
// `workers` a code is then often redeemed at another worker than the one
// that issued it.
interface Agents {
  browser: Agent;
  vendor: Agent;
}

// An idle connection's lifetime at most (a server's hint shortens it).
const IDLE_MS = 30_000;

async function drive(o: DriveOptions): Promise<DriveResult> {
  const cpu = process.cpuUsage();
  // Connections kept open between sign-ins, one per concurrent sign-in for
  // the browsers and as many for the vendor. With a timeout of their own:
  // Node's agent uses a server's `Keep-Alive: timeout=N` only to shorten
  // one it has, so without it an idle connection stays open past the
  // server's timeout, and a request sent on it as the server closes it
  // fails (`read ECONNRESET`, `socket hang up`: bare, on Node's 5 s, did).
  const agents: Agents = {
    browser: new Agent({ keepAlive: true, maxSockets: o.concurrency, timeout: IDLE_MS }),
    vendor: new Agent({ keepAlive: true, maxSockets: o.concurrency, timeout: IDLE_MS }),
  };
  // One discovery for a provider's origins; one per origin for several
  // providers (their keys differ).
  const endpoints = o.issuers
    ? await Promise.all(o.origins.map((origin) => discover(origin, agents.vendor)))
    : [await discover(o.origins[0] as string, agents.vendor)];
  const latencies = o.origins.map((): number[] => []);
  const failures = o.origins.map(() => 0);
  let firstFailure: string | undefined;
  // One provider's origins (workers, instances): each sign-in goes to the
  // next origin. Several providers (`issuers`): each worker stays with one
  // provider, so that each has exactly its share of the concurrency
  // whatever its speed, and all stop together, when the first has started
  // its share of `count` (or at the deadline): each provider's figures then
  // cover the same seconds of the machine.
  const pinned = o.issuers !== undefined;
  const share = Math.ceil(o.count / o.origins.length);
  // Sign-ins started at each provider (pinned only).
  const issued = o.origins.map(() => 0);
  let next = 0;
  let stopped = false;
  const deadline = performance.now() + o.seconds * 1000;
  const started = performance.now();
  const worker = async (w: number) => {
    for (;;) {
      if (stopped || performance.now() >= deadline) return;
      let at: number;
      if (pinned) {
        at = w % o.origins.length;
        if ((issued[at] as number) >= share) {
          stopped = true;
          return;
        }
        issued[at] = (issued[at] as number) + 1;
      } else {
        if (next >= o.count) return;
        at = next % o.origins.length;
      }
      const n = next++;
      const { card, pin } = o.cards[n % o.cards.length] as { card: string; pin: string };
      const t0 = performance.now();
      try {
        const issuer = o.issuers?.[at] ?? o.issuer;
        const e = (endpoints[at] ?? endpoints[0]) as Endpoints;
        await signIn(o, o.origins[at] as string, issuer, card, pin, e, agents);
        latencies[at]?.push(performance.now() - t0);
      } catch (error) {
        failures[at] = (failures[at] ?? 0) + 1;
        firstFailure ??= `${o.origins.length > 1 ? `${o.origins[at]}: ` : ''}${(error as Error).message}`;
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, (_, w) => worker(w)));
  agents.browser.destroy();
  agents.vendor.destroy();
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const total = (values: number[]) => values.reduce((sum, v) => sum + v, 0);
  return {
    ...summary(o.concurrency, latencies.flat(), total(failures), seconds),
    ...(firstFailure ? { firstFailure } : {}),
    cpuMs: (used.user + used.system) / 1000,
    byOrigin: o.origins.map((_, at) =>
      summary(o.concurrency / o.origins.length, latencies[at] ?? [], failures[at] ?? 0, seconds),
    ),
  };
}

// Run as a program: options from the JSON file named by the argument.
if (process.argv[1] && realpathSync(process.argv[1]) === import.meta.filename) {
  const options = JSON.parse(readFileSync(process.argv[2] as string, 'utf8')) as DriveOptions;
  process.stdout.write(`${JSON.stringify(await drive(options))}\n`);
}
