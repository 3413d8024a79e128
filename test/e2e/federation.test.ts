// A consortium in one broker: four libraries in two realms, shared and
// chained authenticators, routing by vendor hint, card prefix and chooser,
// and a configuration reload that must not drop anything.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { follow, login, startLogin, submitLogin, type Vendor, vendor } from '../support/broker.ts';
import {
  CITY_COLLIDING,
  CITY_NEW,
  CITY_OLD,
  consortium,
  NORTH_PATRON,
  writeConsortiumPatrons,
} from '../support/consortium.ts';
import { writePatrons } from '../support/patrons.ts';
import { useBroker } from '../support/use-broker.ts';

describe('federation: a consortium in one broker', () => {
  let v: Vendor;
  const b = useBroker(async ({ dir }) => {
    await writeConsortiumPatrons(dir);
    return { config: consortium(dir) };
  });
  beforeAll(async () => {
    rmSync(join(b.dir, 'missing.yaml'));
    v = await vendor(b.issuer, 'demo-vendor', 'demo-vendor-secret');
  });

  const sub = async (card: string, pin: string, extra: Record<string, string> = {}) =>
    (await login(v, b.issuer, card, pin, extra)).tokens.claims()?.sub;

  it('routes by card prefix when nothing else decides, and shows the card form first', async () => {
    const started = await startLogin(v, b.issuer);
    expect(started.loginPage).toContain('name="card"');
    expect(started.loginPage).not.toContain('name="library"');
    expect(started.loginPage).toContain('Or choose your library first');
    const s = await sub(CITY_OLD.card, CITY_OLD.pin);
    expect(s).toMatch(/@city\.example\.org$/);
  });

  it('routes by the vendor hint library=<id>, with that library on the page', async () => {
    const started = await startLogin(v, b.issuer, { library: 'central' });
    expect(started.loginPage).toContain('City Central Library');
    expect(started.loginPage).toContain('href="/libraries/central/theme.css"');
    expect(started.loginPage).not.toContain('Choose another');
    const theme = await fetch(`${b.issuer}/libraries/central/theme.css`);
    expect(await theme.text()).toContain('--accent: #7a1f5c');
  });

  it('refuses an unknown library hint with an error page, never a silent fallback', async () => {
    const started = await startLogin(v, b.issuer, { library: 'atlantis' });
    expect(started.loginPage).toContain('named a library this service does not know');
    expect(started.loginPage).not.toContain('name="card"');
  });

  it('gives the same pseudonym whichever branch of one realm the patron used', async () => {
    const byPrefix = await sub(NORTH_PATRON.card, NORTH_PATRON.pin);
    const viaNorth = await sub(NORTH_PATRON.card, NORTH_PATRON.pin, { library: 'north' });
    const viaSouth = await sub(NORTH_PATRON.card, NORTH_PATRON.pin, { library: 'south' });
    expect(viaNorth).toBe(byPrefix);
    expect(viaSouth).toBe(byPrefix);
    expect(byPrefix).toMatch(/@county\.example\.org$/);
  });

  it('never shares accountIds across realms, even for colliding card numbers and patron ids', async () => {
    const county = await sub(NORTH_PATRON.card, NORTH_PATRON.pin, { library: 'north' });
    const city = await sub(CITY_COLLIDING.card, CITY_COLLIDING.pin, { library: 'east' });
    expect(city).toMatch(/@city\.example\.org$/);
    expect(city?.split('@')[0]).not.toBe(county?.split('@')[0]);
  });

  it('falls through the chain: unknown in the first authenticator, signed in by the second', async () => {
    expect(await sub(CITY_NEW.card, CITY_NEW.pin)).toBeTruthy();
    expect(await sub(CITY_OLD.card, CITY_OLD.pin)).toBeTruthy();
    const line = b.logs
      .map((l) => JSON.parse(l))
      .reverse()
      .find((l) => l.event === 'login' && l.outcome === 'ok');
    expect(line).toMatchObject({ library: 'central', authenticator: 'city-legacy' });
  });

  it('signs in through the answering backend while another is down, and says "not answering" otherwise', async () => {
    expect(await sub(CITY_COLLIDING.card, CITY_COLLIDING.pin, { library: 'east' })).toBeTruthy();
    const started = await startLogin(v, b.issuer, { library: 'east' });
    const unknown = await submitLogin(started, b.issuer, '99999999999999', '1234');
    expect(unknown.leftFor).toBeUndefined();
    expect(unknown.response.status).toBe(503);
    expect(unknown.body).toContain('not answering');
    const warn = b.logs.map((l) => JSON.parse(l)).find((l) => l.outcome === 'unavailable');
    expect(warn).toMatchObject({ library: 'east', authenticator: 'east-down', level: 'warn' });
  });

  it('offers the chooser when the card matches no library, and searches it by town', async () => {
    const started = await startLogin(v, b.issuer);
    const result = await submitLogin(started, b.issuer, '99999999999999', '1234');
    expect(result.leftFor).toBeUndefined();
    expect(result.body).toContain('We could not tell which library this card belongs to');
    for (const name of ['North Branch', 'South Branch', 'City Central Library', 'East Reading Room']) {
      expect(result.body).toContain(name);
    }
    const uid = /\/interaction\/([^/"?]+)/.exec(result.body)?.[1];
    const search = await follow(started.jar, b.issuer, `${b.issuer}/interaction/${uid}/libraries?q=metropolis`);
    expect(search.body).toContain('City Central Library');
    expect(search.body).toContain('East Reading Room');
    expect(search.body).not.toContain('North Branch');
    const accents = await follow(started.jar, b.issuer, `${b.issuer}/interaction/${uid}/libraries?q=NÖRTH`);
    expect(accents.body).toContain('North Branch');
    expect(accents.body).not.toContain('South Branch');
  });

  it('remembers the chosen library in a cookie holding only its id', async () => {
    const started = await startLogin(v, b.issuer);
    const uid = /\/interaction\/([^/"?]+)/.exec(started.loginUrl)?.[1];
    const chosen = await follow(started.jar, b.issuer, `${b.issuer}/interaction/${uid}?library=south`);
    expect(chosen.body).toContain('South Branch');
    expect(chosen.body).toContain('name="library" value="south"');
    expect(started.jar.cookies.get('patronym_library')).toBe('south');
    const cookie = started.jar.setCookieHeaders.find((h) => h.startsWith('patronym_library='));
    expect(cookie).toMatch(/^patronym_library=south; path=\/; expires=.*; samesite=lax; httponly$/);
    // Unsigned: only a configured library's id is ever taken from it.
    expect(started.jar.setCookieHeaders.filter((h) => h.startsWith('patronym_library.sig='))).toEqual([]);
    // next sign-in in the same browser starts at South Branch
    const next = await startLogin(v, b.issuer, {}, started.jar);
    expect(next.loginPage).toContain('South Branch');
    expect(next.loginPage).toContain('Not your library? Choose another');
  });

  it('counts outcomes per library and authenticator in /metrics, naming no patron', async () => {
    const metrics = await (await fetch(`${b.issuer}/metrics`)).text();
    expect(metrics).toMatch(
      /patronym_logins_total\{library="central",authenticator="city-legacy",outcome="ok",reason=""\} [1-9]/,
    );
    expect(metrics).toMatch(
      /patronym_logins_total\{library="east",authenticator="east-down",outcome="unavailable",reason=""\} [1-9]/,
    );
    for (const p of [NORTH_PATRON, CITY_NEW, CITY_OLD]) expect(metrics).not.toContain(p.card);
  });

  it('reloads: a broken file keeps the running configuration; a good one takes effect; sessions survive', async () => {
    const { jar } = await login(v, b.issuer, NORTH_PATRON.card, NORTH_PATRON.pin);
    b.writeConfig('libraries: [ {');
    expect(await b.reload()).toBe(false);
    expect(b.logs.some((l) => l.includes('reload refused'))).toBe(true);
    expect(await sub(CITY_OLD.card, CITY_OLD.pin)).toBeTruthy();

    const next = consortium(b.dir);
    next.libraries?.push({
      id: 'west',
      name: 'West Branch',
      realm: 'county',
      authenticators: ['county-ils'],
    });
    b.writeConfig(next);
    // A backend that cannot be set up (east-down's file is gone) refuses the reload too.
    expect(await b.reload()).toBe(false);
    expect(b.logs.at(-1)).toContain('missing.yaml');
    await writePatrons(join(b.dir, 'missing.yaml'), []);
    expect(await b.reload()).toBe(true);
    expect((await startLogin(v, b.issuer, { library: 'west' })).loginPage).toContain('West Branch');
    // the broker session from before the reload still signs the patron in without a form
    expect((await startLogin(v, b.issuer, {}, jar)).loginPage).toBe('');
  });
});
