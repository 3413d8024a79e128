// SIGHUP's reload must not change what only a restart may change: issuer,
// port, host, store and keys keep their running values (discovery, every
// vendor's `iss` check and every pseudonym's scope depend on them), with a
// warning naming each key that was ignored; the rest of the file applies.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useBroker } from '../support/use-broker.ts';

describe('reload keeps the restart-only settings', () => {
  const b = useBroker();

  it('ignores a new issuer, port, store and keys with one warning each, and applies the rest', async () => {
    const discovery = async () =>
      (await (await fetch(`${b.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    const before = await discovery();
    b.writeConfig({
      issuer: 'https://elsewhere.example.org',
      port: b.port + 1,
      store: { kind: 'sqlite', path: join(b.dir, 'data', 'other.sqlite') },
      keys: { dir: join(b.dir, 'other-keys') },
      retention: { releaseLog: 30, consent: 30 },
    });
    const from = b.logs.length;
    expect(await b.reload()).toBe(true);
    const after = await discovery();
    expect(after.issuer).toBe(before.issuer);
    expect(after.token_endpoint).toBe(before.token_endpoint);
    expect(b.config.issuer).toBe(before.issuer);
    expect(b.config.port).toBe(b.port);
    expect(b.config.store).toEqual({ kind: 'sqlite', path: join(b.dir, 'data', 'patronym.sqlite') });
    expect(b.config.keys.dir).toBe(join(b.dir, 'keys'));
    // The realm's scope (hence every pseudonym) still comes from the running issuer.
    expect(b.config.realms[0]?.scope).toBe('springfield.example.org');
    // What a reload may change, changed.
    expect(b.config.retention).toEqual({ releaseLog: 30, consent: 30 });
    const warnings = b.logs
      .slice(from)
      .map((line) => JSON.parse(line) as { level: string; ignored?: string; msg: string })
      .filter((line) => line.level === 'warn' && line.ignored);
    expect(warnings.map((w) => w.ignored).sort()).toEqual(['issuer', 'keys', 'port', 'store']);
    for (const w of warnings) expect(w.msg).toMatch(/ignored until the next restart/);
  });

  it('derives a default realm scope from the running issuer, not the file’s new one', async () => {
    b.writeConfig({ issuer: 'https://elsewhere.example.org', realms: [{ id: 'springfield' }] });
    expect(await b.reload()).toBe(true);
    expect(b.config.realms[0]?.scope).toBe('127.0.0.1');
  });
});
