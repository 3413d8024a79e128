// The HTTP part every ILS simulator shares: a loopback server, a log of
// what it received (method, path, the Authorization scheme), and the ways a
// real ILS or the proxy in front of it misbehaves: slow answers, 500s, an
// HTML error page instead of JSON, a connection cut mid-answer.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

export type IlsMisbehaviour =
  | { kind: 'slow'; ms: number }
  | { kind: 'status'; status: number }
  | { kind: 'html' }
  | { kind: 'cut' };

export interface IlsReceived {
  method: string;
  path: string;
  // "Basic", "Bearer", "PWS"… or "" when none was sent.
  scheme: string;
}

export interface IlsRequestContext {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface IlsReply {
  status: number;
  body?: unknown;
  // Default: application/json when there is a body.
  contentType?: string;
  headers?: Record<string, string>;
}

export type IlsHandler = (request: IlsRequestContext) => IlsReply | Promise<IlsReply>;

export interface IlsSimulator {
  port: number;
  baseUrl: string;
  received: IlsReceived[];
  // Connections open now, and the most ever open at once.
  connections(): number;
  peakConnections(): number;
  // Applies to the next `times` requests (default: all) whose path
  // matches `on` (default: every path).
  setMisbehaviour(m: IlsMisbehaviour | undefined, options?: { times?: number; on?: RegExp }): void;
  stop(): Promise<void>;
}

const HTML_ERROR =
  '<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>';

// With `tls` (PEM certificate and key) the simulator speaks https.
export async function startIlsHttp(
  handler: IlsHandler,
  options: { port?: number; tls?: { cert: string; key: string } } = {},
): Promise<IlsSimulator> {
  const received: IlsReceived[] = [];
  let misbehaviour: { m: IlsMisbehaviour; times: number; on: RegExp } | undefined;
  const sockets = new Set<Socket>();
  let peak = 0;

  const send = (res: ServerResponse, reply: IlsReply) => {
    const headers: Record<string, string> = { ...reply.headers };
    let text = '';
    if (reply.body !== undefined) {
      text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
      headers['content-type'] ??= reply.contentType ?? 'application/json';
    }
    res.writeHead(reply.status, headers).end(text);
  };

  const listener = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://sim');
    const auth = req.headers.authorization ?? '';
    received.push({ method: req.method ?? '', path: url.pathname, scheme: auth.split(' ')[0] ?? '' });
    const m = misbehaviour && misbehaviour.times > 0 && misbehaviour.on.test(url.pathname) ? misbehaviour : undefined;
    if (m) {
      m.times--;
      if (m.m.kind === 'slow') await new Promise((r) => setTimeout(r, (m.m as { ms: number }).ms));
      else if (m.m.kind === 'status') return send(res, { status: m.m.status, body: { error: 'Internal error' } });
      else if (m.m.kind === 'html') return send(res, { status: 200, body: HTML_ERROR, contentType: 'text/html' });
      else {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
        res.write('{"patron_id": ');
        res.socket?.destroy();
        return;
      }
    }
    try {
      send(
        res,
        await handler({
          method: req.method ?? '',
          url,
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    } catch (error) {
      send(res, { status: 500, body: { error: String(error) } });
    }
  };
  const server: Server = options.tls ? createTlsServer(options.tls, listener) : createServer(listener);
  server.on(options.tls ? 'secureConnection' : 'connection', (s: Socket) => {
    sockets.add(s);
    peak = Math.max(peak, sockets.size);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(options.port ?? 0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    baseUrl: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    received,
    connections: () => sockets.size,
    peakConnections: () => peak,
    setMisbehaviour(m, o = {}) {
      misbehaviour = m && { m, times: o.times ?? Number.POSITIVE_INFINITY, on: o.on ?? /./ };
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

// The patron fixture of the SIP2 simulator, shared by every ILS simulator.
export { SIP2_CARDS as ILS_CARDS, SIP2_PATRONS as ILS_PATRONS, type SimPatron } from './sip2-dialects.ts';

// An ILS matches cards through its database's collation; the simulators
// fold case as MySQL's and Sybase's defaults do.
export const sameCard = (a: string, b: string): boolean => a.toUpperCase() === b.toUpperCase();
