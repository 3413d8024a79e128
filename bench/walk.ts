// A browser without a browser for the load generators: a cookie jar and a
// walk that follows redirects on the broker's origin until the vendor's
// callback (the code) or a page (its body).
import { browserFetch, CookieJar } from '../test/support/broker.ts';

export type Walk = (url: string, init?: RequestInit) => Promise<{ code: string; body: string; status?: number }>;

export function browserWalk(origin: string, redirect: string): Walk {
  const jar = new CookieJar();
  const get = (url: string, init: RequestInit = {}) => browserFetch(jar, url, init);
  return async (url, init) => {
    let response = await get(url, init);
    for (let hop = 0; hop < 10 && response.status >= 300 && response.status < 400; hop++) {
      const location = new URL(response.headers.get('location') ?? '', origin);
      await response.arrayBuffer();
      if (location.href.startsWith(redirect)) return { code: location.searchParams.get('code') ?? '', body: '' };
      response = await get(`${origin}${location.pathname}${location.search}`);
    }
    return { code: '', body: await response.text(), status: response.status };
  };
}
