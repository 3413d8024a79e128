// The error model as the patron meets it: a PatronymError reaching a route is
// rendered by its code (status and catalogue sentence from src/errors.ts),
// never by its message. Real Koa on a loopback port, real templates.
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorPages } from '../../src/error-pages.ts';
import { disposition, type ErrorCode, PatronymError } from '../../src/errors.ts';
import { createLogger } from '../../src/log.ts';
import { createViews } from '../../src/views.ts';

const SECRET = 'ldap: bind as service account failed: "cn=svc,dc=lib"';
let base = '';
let close: () => Promise<void> = async () => {};

beforeAll(async () => {
  const app = new Koa();
  app.use(errorPages(createViews(), createLogger('silent')));
  app.use((ctx) => {
    const code = ctx.path.slice(1) as ErrorCode;
    throw new PatronymError(code, SECRET);
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => new Promise((resolve) => server.close(() => resolve()));
});
afterAll(() => close());

describe('error pages', () => {
  it('a store outage is said as an outage (503, "not answering"), not as our fault', async () => {
    const response = await fetch(`${base}/store_unavailable`);
    expect(response.status).toBe(503);
    const page = await response.text();
    expect(page).toContain('is not answering');
    expect(page).not.toContain('cn=svc');
  });

  it('a backend outage that escapes its authenticator is an outage too', async () => {
    for (const code of ['ldap_transport', 'sip2_failure', 'ils_unavailable'] as const) {
      const response = await fetch(`${base}/${code}`);
      expect(response.status).toBe(503);
      expect(await response.text()).toContain('is not answering');
    }
  });

  it('an unexposed code is a 500 with the generic sentence, never the message', async () => {
    const response = await fetch(`${base}/config_invalid`);
    expect(response.status).toBe(500);
    const page = await response.text();
    expect(page).toContain('Something went wrong on our side');
    expect(page).not.toContain('cn=svc');
  });

  it('expose follows the code, whoever throws', () => {
    expect(new PatronymError('store_unavailable', 'x').expose).toBe(true);
    expect(new PatronymError('config_invalid', 'x').expose).toBe(false);
    expect(disposition('stats_query_invalid').status).toBe(400);
  });
});
