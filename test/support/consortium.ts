// A consortium for tests: four libraries in two realms, a shared
// authenticator, a chain with fall-through, and a backend that goes down.
import { join } from 'node:path';
import type { ConfigInput } from '../../src/config/schema.ts';
import { TEST_PEPPER_HEX, writePatrons } from './patrons.ts';

export const NORTH_PATRON = { card: '21000000000001', pin: '1111', id: 'county-0001' };
export const CITY_NEW = { card: '31000000000001', pin: '2222', id: 'city-new-0001' };
export const CITY_OLD = { card: '31000000000002', pin: '3333', id: 'city-old-0002' };
// The same card number as NORTH_PATRON, in the other realm's database.
export const CITY_COLLIDING = { card: '21000000000001', pin: '4444', id: 'county-0001' };

export function consortium(dir: string): Partial<ConfigInput> {
  return {
    keys: { dir: join(dir, 'keys'), pinPepper: TEST_PEPPER_HEX },
    realms: [
      { id: 'county', scope: 'county.example.org' },
      { id: 'city', scope: 'city.example.org' },
    ],
    authenticators: [{ id: 'county-ils', kind: 'file', path: join(dir, 'county.yaml') }],
    libraries: [
      {
        id: 'north',
        name: 'North Branch',
        town: 'Northfield',
        realm: 'county',
        cardPatterns: ['2100'],
        authenticators: ['county-ils'],
      },
      {
        id: 'south',
        name: 'South Branch',
        town: 'Southbury',
        realm: 'county',
        cardPatterns: ['2100'],
        authenticators: ['county-ils'],
      },
      {
        id: 'central',
        name: 'City Central Library',
        town: 'Metropolis',
        realm: 'city',
        cardPatterns: ['/^31[0-9]{12}$/'],
        colours: { accent: '#7a1f5c', accentText: '#ffffff' },
        authenticators: [
          { id: 'city-new', kind: 'file', path: join(dir, 'city-new.yaml') },
          { id: 'city-legacy', kind: 'file', path: join(dir, 'city-old.yaml') },
        ],
      },
      {
        id: 'east',
        name: 'East Reading Room',
        town: 'Metropolis East',
        realm: 'city',
        authenticators: [
          { id: 'east-down', kind: 'file', path: join(dir, 'missing.yaml') },
          { id: 'east-file', kind: 'file', path: join(dir, 'east.yaml') },
        ],
      },
    ],
  };
}

export async function writeConsortiumPatrons(dir: string): Promise<void> {
  await writePatrons(join(dir, 'county.yaml'), [NORTH_PATRON]);
  await writePatrons(join(dir, 'city-new.yaml'), [CITY_NEW]);
  await writePatrons(join(dir, 'city-old.yaml'), [CITY_OLD]);
  await writePatrons(join(dir, 'east.yaml'), [CITY_COLLIDING]);
  // east-down's file exists at start (the authenticator reads it once), then goes away.
  await writePatrons(join(dir, 'missing.yaml'), []);
}
