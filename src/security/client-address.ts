// The client's address, as far as we can trust it: X-Forwarded-For is read
// only when the connection comes from one of the configured reverse
// proxies, from the right, skipping further trusted proxies. Requests that
// do not come through a trusted proxy lose any X-Forwarded-* headers, so
// neither Koa nor oidc-provider believes a forged one.
import { isIP } from 'node:net';
import type { Middleware } from 'koa';

export function clientAddress(
  peer: string,
  forwardedFor: string | undefined,
  trusted: (ip: string) => boolean,
): string {
  if (!forwardedFor || !trusted(peer)) return peer;
  const hops = forwardedFor
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i] as string;
    if (isIP(hop) === 0) return peer; // garbage in the chain: believe nothing
    if (!trusted(hop)) return hop;
  }
  return hops[0] ?? peer;
}

declare module 'koa' {
  interface DefaultState {
    clientAddress?: string;
  }
}

// `warn` is told, once per address, about a peer that forwards for others
// without being trusted: behind such a proxy every patron looks like the
// proxy, and one guesser could get the whole library refused.
export function clientAddressMiddleware(trusted: (ip: string) => boolean, warn?: (peer: string) => void): Middleware {
  const warned = new Set<string>();
  return async (ctx, next) => {
    const peer = (ctx.req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    if (!trusted(peer)) {
      if (warn && ctx.req.headers['x-forwarded-for'] && !warned.has(peer) && warned.size < 100) {
        warned.add(peer);
        warn(peer);
      }
      for (const header of [
        'x-forwarded-for',
        'x-forwarded-proto',
        'x-forwarded-host',
        'x-forwarded-port',
        'forwarded',
      ]) {
        delete ctx.req.headers[header];
      }
    }
    const forwarded = ctx.req.headers['x-forwarded-for'];
    ctx.state.clientAddress = clientAddress(peer, Array.isArray(forwarded) ? forwarded.join(',') : forwarded, trusted);
    await next();
  };
}
