// The ILS API over https, as in production (the shared client, shown with
// koha): a certificate from the configured CA is accepted, from another CA
// or an unknown one refused as an outage naming TLS, never a wrong PIN.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpResources } from '../../../../src/auth/http/resources.ts';
import { kohaOptionsSchema } from '../../../../src/auth/koha/options.ts';
import { resourceContext } from '../../../../src/config/resources.ts';
import { ILS_CARDS } from '../../../support/ils-http.ts';
import { type KohaSimulator, startKohaSimulator } from '../../../support/ils-koha.ts';
import { makeTls } from '../../../support/tls.ts';
import { kohaFor } from './helpers.ts';

let dir: string;
let sim: KohaSimulator;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'patronym-ils-tls-'));
  makeTls(dir);
  sim = await startKohaSimulator({
    tls: { cert: readFileSync(join(dir, 'server.pem'), 'utf8'), key: readFileSync(join(dir, 'server.key'), 'utf8') },
  });
});
afterAll(async () => {
  await sim?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('ILS API over https', () => {
  it('signs in through a certificate from the configured CA, with no allowHttp', async () => {
    expect(sim.baseUrl.startsWith('https://')).toBe(true);
    const a = kohaFor(sim, { allowHttp: false, tls: { ca: join(dir, 'ca.pem') } });
    expect(await a.authenticate(ILS_CARDS.active)).toMatchObject({ kind: 'ok', patron: { stableId: '1' } });
    await a.close();
  });

  it('refuses a certificate from another CA or from none it knows: unavailable, naming TLS', async () => {
    for (const tls of [{ ca: join(dir, 'wrong-ca.pem') }, undefined]) {
      const a = kohaFor(sim, tls ? { tls } : {});
      const result = await a.authenticate(ILS_CARDS.active);
      expect(result).toMatchObject({ kind: 'unavailable', cause: expect.stringMatching(/: TLS failed \([A-Z_]+\)$/) });
      await a.close();
    }
  });

  it('takes the CA as PEM text from the configuration loader, and reports a missing CA file there', async () => {
    const problems: string[] = [];
    const parsed = kohaOptionsSchema.parse({
      baseUrl: sim.baseUrl,
      auth: { basic: { user: 'patronym', password: 'koha-secret' } },
      tls: { ca: join(dir, 'ca.pem') },
    });
    const loaded = httpResources(parsed, resourceContext({}, problems, ['authenticators', 0]));
    expect(problems).toEqual([]);
    expect(loaded.tls?.ca).toContain('-----BEGIN CERTIFICATE-----');
    const a = kohaFor(sim, { tls: loaded.tls });
    expect((await a.authenticate(ILS_CARDS.active)).kind).toBe('ok');
    await a.close();
    httpResources(
      { ...parsed, tls: { ca: join(dir, 'missing.pem'), rejectUnauthorized: true } },
      resourceContext({}, problems, ['authenticators', 0]),
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^authenticators\[0\]\.tls\.ca: /);
  });
});
