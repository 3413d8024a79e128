// Who may open /stats: nobody without a configured hash, nobody outside the
// allowed ranges (404 both: the page does not exist for them), and inside
// them only HTTP Basic with the right user and password.
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/config.ts';
import { createLogger } from '../../../src/log.ts';
import { statsPage } from '../../../src/stats/page.ts';
import { hashStatsPassword } from '../../../src/stats/password.ts';
import { MemoryStore } from '../../../src/store/memory.ts';
import { VIEWS_DIR } from '../../../src/views.ts';

const PASSWORD = 'a long sysadmin password';
const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

async function serve(page: Partial<Config['stats']['page']>, clientAddress: string, enabled = true) {
  // Only the keys the page reads: a whole Config needs backends on disk.
  const config = {
    stats: { enabled, threshold: 5, retention: 800, page: { allow: ['127.0.0.1/32'], ...page } },
    libraries: [{ id: 'springfield', name: 'Springfield Public Library' }],
    clients: [],
  } as unknown as Config;
  const app = new Koa();
  app.use(async (ctx, next) => {
    ctx.state.clientAddress = clientAddress;
    await next();
  });
  app.use(
    statsPage({
      config,
      store: new MemoryStore(),
      viewsDir: VIEWS_DIR,
      log: createLogger('silent'),
      addressHandle: (ip) => `h(${ip})`,
    }).routes(),
  );
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  closers.push(() => server.close());
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return (path: string, password?: string, user = 'stats') =>
    fetch(`${base}${path}`, {
      headers: password ? { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` } : {},
    });
}

describe('/stats', () => {
  it('does not exist without a password hash, when statistics are off, or outside the allowed ranges', async () => {
    const hash = await hashStatsPassword(PASSWORD);
    expect((await (await serve({}, '127.0.0.1'))('/stats', PASSWORD)).status).toBe(404);
    expect((await (await serve({ passwordHash: hash }, '127.0.0.1', false))('/stats', PASSWORD)).status).toBe(404);
    const outside = await serve({ passwordHash: hash }, '192.0.2.7');
    for (const path of ['/stats', '/stats.csv', '/stats.json'])
      expect((await outside(path, PASSWORD)).status).toBe(404);
  });

  it('answers the right user and password only, and refuses a bad query plainly', async () => {
    const get = await serve({ passwordHash: await hashStatsPassword(PASSWORD), allow: ['10.0.0.0/8'] }, '10.1.2.3');
    expect((await get('/stats')).status).toBe(401);
    expect((await get('/stats', `${PASSWORD}x`)).status).toBe(401);
    expect((await get('/stats', PASSWORD, 'admin')).status).toBe(401);
    const page = await get('/stats', PASSWORD);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<h1>Usage statistics</h1>');
    expect(html).toContain('No sign-ins in this period.');
    expect(html).not.toMatch(/<script/);
    const json = await get('/stats.json?since=2026-01&until=2026-03', PASSWORD);
    expect(json.headers.get('content-disposition')).toBe('attachment; filename="patronym-2026-01-2026-03.json"');
    expect(((await json.json()) as { Report_Items: unknown[] }).Report_Items).toEqual([]);
    const bad = await get('/stats?since=2026-13', PASSWORD);
    expect(bad.status).toBe(400);
    expect(await bad.text()).toBe('stats: --since must be a month (YYYY-MM) or a day (YYYY-MM-DD); found "2026-13"');
  });
});
