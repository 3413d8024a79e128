// Retention: expired records go, live ones stay, with a controllable clock.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatPurge, purge } from '../../../src/cli/commands/purge.ts';
import { Consents } from '../../../src/policy/consent.ts';
import { ReleaseLog } from '../../../src/policy/release-log.ts';
import { SqliteStore } from '../../../src/store/sqlite.ts';
import { fakeClock } from '../../conformance/store.suite.ts';

const dir = mkdtempSync(join(tmpdir(), 'patronym-purge-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const DAY = 86_400_000;

describe('retention and purge', { timeout: 60_000 }, () => {
  it('drops the release log after its retention and consent after its period, keeping what is live', async () => {
    const clock = fakeClock();
    const store = new SqliteStore(join(dir, 'a.sqlite'), { now: clock.now });
    const log = new ReleaseLog(store, clock.now);
    const consents = new Consents(store, clock.now);
    await log.record('old-patron', 'vendor', [], 30);
    await consents.allow('old-patron', 'vendor', ['library'], 10);
    clock.advance(20 * DAY);
    await log.record('recent-patron', 'vendor', ['library'], 30);
    await store.upsert('Session', 'live', { accountId: 'recent-patron' }, 3600);
    expect(await consents.allowed('old-patron', 'vendor')).toEqual([]); // past its 10 days already
    clock.advance(15 * DAY);
    const removed = await purge(store);
    expect(removed).toEqual({ ReleaseLog: 1, Consent: 1, Session: 1 });
    expect(await log.list('old-patron')).toEqual({});
    expect(Object.keys(await log.list('recent-patron'))).toEqual(['vendor']);
    expect(formatPurge(removed)).toBe(
      'purged 3 expired record(s)\n       1  consents\n       1  release logs\n       1  sign-in sessions\n',
    );
    await store.close();
  });

  it('keeps a vendor entry alive with each use, and forgets one unused past retention', async () => {
    const clock = fakeClock();
    const store = new SqliteStore(join(dir, 'b.sqlite'), { now: clock.now });
    const log = new ReleaseLog(store, clock.now);
    await log.record('p', 'rarely', [], 30);
    await log.record('p', 'often', [], 30);
    for (let i = 0; i < 4; i++) {
      clock.advance(10 * DAY);
      await log.record('p', 'often', [], 30);
    }
    expect(Object.keys(await log.list('p', 30))).toEqual(['often']);
    expect((await log.list('p', 30)).often?.first).toBe('2026-01-01');
    await store.close();
  });

  it('runs as `patronym purge` and prints counts', async () => {
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      `store: { kind: sqlite, path: ${join(dir, 'cli.sqlite')} }\nkeys: { dir: ${join(dir, 'keys')} }\nlibraries: [{ id: l, name: L, authenticators: [{ kind: file, path: p }] }]\n`,
    );
    const store = new SqliteStore(join(dir, 'cli.sqlite'), { now: () => Date.now() - 2 * DAY });
    await store.upsert('Session', 'gone', {}, 60);
    await store.close();
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        ['src/cli/main.ts', 'purge'],
        { env: { ...process.env, PATRONYM_CONFIG: config } },
        (e, stdout, stderr) => (e ? reject(new Error(stderr)) : resolve(stdout)),
      ),
    );
    expect(out).toBe('purged 1 expired record(s)\n       1  sign-in sessions\n');
  });
});
