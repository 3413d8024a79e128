// A browser without a browser for the load generators: a cookie jar and a
// walk that follows redirects on the broker's origin until the vendor's
// callback (the code) or a page (its body).
//
// Requests go through node:http rather than fetch: undici's fetch costs the
// generator several milliseconds of CPU per sign-in (its headers, streams
// and Response objects), as much as the broker it measures, and on a small
// machine that CPU is taken from the processes under test. Every response
// body is still read to its end, as a browser would.
import { Agent, type IncomingHttpHeaders, request } from 'node:http';
import type { Socket } from 'node:net';
import { CookieJar } from '../test/support/broker.ts';

export interface Send {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

// Keep-alive, so that a sign-in's requests do not each open a connection.
// Without maxSockets the pool grows to the number of requests in flight,
// which is the caller's concurrency; bench/drive.ts passes its own agent
// bounded by it.
// A timeout of its own, so that it honours a server's shorter keep-alive
// hint (bench/drive.ts says why).
const sharedAgent = new Agent({ keepAlive: true, timeout: 30_000 });

// When each kept-alive connection was last handed back to its pool, so that
// a failed request says whether it went on a connection that had sat idle
// (the server may close an idle one just as a request is sent on it).
const freedAt = new WeakMap<Socket, number>();
const watched = new WeakSet<Agent>();
const watch = (agent: Agent) => {
  if (watched.has(agent)) return;
  watched.add(agent);
  agent.on('free', (socket: Socket) => freedAt.set(socket, performance.now()));
};

const describe = (error: NodeJS.ErrnoException, reused: boolean, socket: Socket | null): Error => {
  const idle = socket ? freedAt.get(socket) : undefined;
  const connection = reused
    ? `a kept-alive connection${idle === undefined ? '' : ` idle ${Math.round(performance.now() - idle)} ms`}`
    : 'a new connection';
  return new Error(`${error.message} (${error.code ?? 'no code'}, on ${connection})`);
};

export function send(url: string, init: Send = {}, agent: Agent = sharedAgent): Promise<Reply> {
  const headers: Record<string, string | number> = { ...init.headers };
  if (init.body !== undefined) headers['content-length'] = Buffer.byteLength(init.body);
  watch(agent);
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    req.on('error', (error) => reject(describe(error, req.reusedSocket, req.socket)));
    req.end(init.body);
  });
}

export type Walk = (url: string, init?: Send) => Promise<{ code: string; body: string; status?: number }>;

export function browserWalk(origin: string, redirect: string, agent: Agent = sharedAgent): Walk {
  const jar = new CookieJar();
  const get = async (url: string, init: Send = {}) => {
    const cookie = jar.header();
    const reply = await send(url, cookie ? { ...init, headers: { ...init.headers, cookie } } : init, agent);
    jar.storeHeaders(reply.headers['set-cookie'] ?? []);
    return reply;
  };
  return async (url, init) => {
    let reply = await get(url, init);
    for (let hop = 0; hop < 10 && reply.status >= 300 && reply.status < 400; hop++) {
      const location = new URL(reply.headers.location ?? '', origin);
      if (location.href.startsWith(redirect)) return { code: location.searchParams.get('code') ?? '', body: '' };
      reply = await get(`${origin}${location.pathname}${location.search}`);
    }
    return { code: '', body: reply.body, status: reply.status };
  };
}
