// The library's usage statistics after real sign-ins on the SQLite store:
// what /stats and `patronym stats` report, who may read them, and that the
// store file keeps no card and the statistics no accountId.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { hashStatsPassword } from '../../src/stats/password.ts';
import { flushStats } from '../../src/stats/recorder.ts';
import { readStats } from '../../src/stats/report.ts';
import { login, vendor } from '../support/broker.ts';
import { expectAbsent, expectNoPins } from '../support/leaks.ts';
import { useBroker } from '../support/use-broker.ts';

const run = promisify(execFile);
const PASSWORD = 'correct horse battery staple';
const P1 = { card: '21234000000001', pin: '1234' };
const P2 = { card: '21234000000002', pin: '2345' };
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const month = new Date().toISOString().slice(0, 7);

describe('usage statistics after real sign-ins', () => {
  const b = useBroker(async () => ({
    config: { stats: { page: { passwordHash: await hashStatsPassword(PASSWORD) } } },
  }));
  beforeAll(async () => {
    const one = await vendor(b.issuer, 'demo-vendor', 'demo-vendor-secret');
    const two = await vendor(b.issuer, 'demo-vendor-2', 'demo-vendor-secret');
    // demo-vendor: 5 sign-ins by 2 patrons; demo-vendor-2: 1 by 1.
    for (const p of [P1, P2, P1, P2, P1]) await login(one, b.issuer, p.card, p.pin);
    await login(two, b.issuer, P1.card, P1.pin);
  }, 120_000);

  const page = (path: string, authorization?: string) =>
    fetch(`${b.issuer}${path}`, authorization ? { headers: { authorization } } : {});

  it('shows sysadmins the counts, small ones as "fewer than 5", and refuses anyone else', async () => {
    const anonymous = await page('/stats');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic realm="Patronym statistics"/);
    expect((await page('/stats', basic('stats', 'wrong password'))).status).toBe(401);
    expect((await page('/stats', basic('admin', PASSWORD))).status).toBe(401);

    const ok = await page('/stats', basic('stats', PASSWORD));
    expect(ok.status).toBe(200);
    expect(ok.headers.get('cache-control')).toBe('no-store');
    expect(ok.headers.get('content-security-policy')).toBeTruthy();
    const html = await ok.text();
    const row = (vendorName: string) =>
      new RegExp(
        `<td>${month}</td><td>Springfield Public Library</td><td>${vendorName}</td><td>([^<]*)</td><td>([^<]*)</td>`,
      )
        .exec(html)
        ?.slice(1);
    expect(row('Demo Vendor')).toEqual(['5', 'fewer than 5']);
    expect(row('Second Demo Vendor')).toEqual(['fewer than 5', 'fewer than 5']);

    const csv = await page(`/stats.csv?since=${month}&until=${month}`, basic('stats', PASSWORD));
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const text = await csv.text();
    expect(text).toContain(`Springfield Public Library,springfield,Demo Vendor,demo-vendor,${month},Sign_Ins,5\r\n`);
    expect(text).toContain(`,demo-vendor,${month},Distinct_Patrons_Estimated,fewer than 5\r\n`);

    expect((await page('/stats?granularity=hour', basic('stats', PASSWORD))).status).toBe(400);
  });

  it('counts wrong passwords per address before checking them, on the store', async () => {
    let refused = 0;
    for (let i = 0; i < 12; i++) if ((await page('/stats', basic('stats', `guess ${i}`))).status === 429) refused++;
    // 10 attempts per window (the right password before gave its point back).
    expect(refused).toBeGreaterThanOrEqual(2);
    expect((await page('/stats', basic('stats', PASSWORD))).status).toBe(429);
  });

  it('`patronym stats` prints the same in JSON, and distinct patrons by day', async () => {
    // The CLI is another process: it reads what the running broker has
    // written, which the broker does within a second; flushed here so the
    // test does not depend on that second or on /stats having been read.
    await flushStats();
    const env = { ...process.env, PATRONYM_CONFIG: b.configPath };
    const { stdout } = await run(process.execPath, ['src/cli/main.ts', 'stats', '--format', 'json', '--since', month], {
      env,
    });
    const report = JSON.parse(stdout);
    expect(report.Report_Header.Report_ID).toBe('PATRONYM_SIGN_INS');
    const item = report.Report_Items.find((i: { Vendor_ID: string }) => i.Vendor_ID === 'demo-vendor');
    expect(item.Platform).toBe('Demo Vendor');
    expect(item.Performance).toEqual([
      {
        Period: month,
        Instance: [
          { Metric_Type: 'Sign_Ins', Count: 5 },
          { Metric_Type: 'Distinct_Patrons_Estimated', Count: 'fewer than 5' },
        ],
      },
    ]);
    const day = new Date().toISOString().slice(0, 10);
    const csv = await run(process.execPath, ['src/cli/main.ts', 'stats', '--granularity', 'day', '--since', day], {
      env,
    });
    expect(csv.stdout).toContain(`,demo-vendor,${day},Sign_Ins,5\r\n`);
    await expect(run(process.execPath, ['src/cli/main.ts', 'stats', '--since', 'last year'], { env })).rejects.toThrow(
      /stats: --since must be a month \(YYYY-MM\) or a day \(YYYY-MM-DD\); found "last year"/,
    );
  });

  it('writes the sign-ins of the last second when the broker shuts down', async () => {
    const two = await vendor(b.issuer, 'demo-vendor-2', 'demo-vendor-secret');
    await login(two, b.issuer, P2.card, P2.pin);
    // Straight to shutdown (no read in between): the broker's close()
    // must wait for the recorder's last flush before the store closes.
    await b.restart();
    const today = new Date().toISOString().slice(0, 10);
    const rows = await readStats(b.store, { since: today, until: today, granularity: 'day' });
    expect(rows.find((r) => r.vendor === 'demo-vendor-2')?.signIns).toBe(2);
  });

  it('tells patrons on /privacy what is counted, and how', async () => {
    const html = await (await fetch(`${b.issuer}/privacy`)).text();
    expect(html).toContain('how many sign-ins reached each website each day');
    expect(html).toContain(
      'a secret key that changes every day and every month and is deleted when that day or month ends',
    );
    expect(html).toContain('Counts below 5 are never shown.');
  });

  it('leaves no card or PIN in the store file, and no accountId in the statistics', async () => {
    await page('/stats', basic('stats', PASSWORD));
    await b.store.scrub();
    const path = (b.config.store as { path: string }).path;
    const file = [path, `${path}-wal`]
      .filter(existsSync)
      .map((f) => readFileSync(f).toString('latin1'))
      .join('');
    expectAbsent(file, [P1.card, P2.card]);
    expectNoPins(file, [P1.pin, P2.pin]);
    const accountIds = (await b.store.list('Account')).map((r) => r.id);
    expect(accountIds).toHaveLength(2);
    const stats: string[] = [];
    for await (const record of b.store.dump()) {
      if (record.model.startsWith('Stats')) stats.push(JSON.stringify(record));
    }
    expect(stats.length).toBeGreaterThanOrEqual(4); // two day records, the day's and the month's key
    expectAbsent(stats.join('\n'), accountIds);
  });
});
