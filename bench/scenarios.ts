// Backends to measure. Each returns the broker configuration (merged over
// the demo one) and the cards to sign in with.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type PatronEntry, writePatronFile } from '../src/auth/file/patron-file.ts';
import { hashPin } from '../src/auth/file/pin-hash.ts';
import type { ConfigInput } from '../src/config/schema.ts';
import { TEST_PEPPER, TEST_PEPPER_HEX } from '../test/support/patrons.ts';
import type { SimPatron } from '../test/support/sip2-dialects.ts';
import { startSip2Server } from '../test/support/sip2-server.ts';
import { generatePatrons, startSlapd } from '../test/support/slapd.ts';

export interface ScenarioSetup {
  config: Partial<ConfigInput>;
  cards: { card: string; pin: string }[];
  // The backend's processes, whose CPU the bench reports apart.
  backendPids?: () => number[];
  // What the bare reference (bench/bare.ts) needs to reach the backend.
  ldap?: { url: string; bindDn: string; bindPassword: string; baseDn: string; attribute: string };
  teardown?: () => Promise<void>;
}

export type Scenario = () => Promise<ScenarioSetup>;

const library = (kind: string, authenticator: Record<string, unknown>): Partial<ConfigInput> => ({
  libraries: [
    {
      id: 'springfield',
      name: 'Springfield Public Library',
      realm: 'springfield',
      authenticators: [{ kind, ...authenticator } as { kind: string }],
    },
  ],
});

export const scenarios: Record<string, Scenario> = {
  // A patron file like the demo's (scrypt N=2^14 per PIN check dominates),
  // with 200 patrons: the throttle refuses more than `card.lockAfter` PIN
  // checks of one card in flight at once, so a load of 32 sign-ins at a
  // time needs more cards than the demo's two.
  file: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'patronym-bench-file-'));
    const cards = Array.from({ length: 200 }, (_, i) => ({
      card: String(21_234_100_000_000 + i),
      pin: String(1000 + ((i * 37) % 9000)),
    }));
    const entries: PatronEntry[] = [];
    for (const [i, c] of cards.entries()) {
      entries.push({ card: c.card, id: `bench-${i}`, pin: await hashPin(TEST_PEPPER, c.pin), status: 'active' });
    }
    const path = join(dir, 'patrons.yaml');
    writePatronFile(path, entries);
    return {
      config: {
        keys: { dir: join(dir, 'keys'), pinPepper: TEST_PEPPER_HEX },
        ...library('file', { path }),
      },
      cards,
      teardown: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },

  // A local OpenLDAP with 1,000 patrons: service bind + search + patron bind.
  ldap: async () => {
    const slapd = await startSlapd({ generate: 1000 });
    const secret = join(slapd.dir, 'service-password');
    writeFileSync(secret, `${slapd.servicePassword}\n`, { mode: 0o600 });
    return {
      config: library('ldap', {
        urls: [slapd.url],
        allowInsecure: true,
        bindDn: slapd.serviceDn,
        bindPassword: { file: secret },
        baseDn: slapd.patronsDn,
        filter: '(uid={card})',
      }),
      cards: generatePatrons(1000).map((p) => ({ card: p.uid, pin: p.pin })),
      backendPids: () => [Number(readFileSync(join(slapd.dir, 'slapd.pid'), 'utf8').trim())],
      ldap: {
        url: slapd.url,
        bindDn: slapd.serviceDn,
        bindPassword: slapd.servicePassword,
        baseDn: slapd.patronsDn,
        attribute: 'uid',
      },
      teardown: () => slapd.dispose(),
    };
  },

  // The SIP2 simulator (Evergreen dialect) with 1,000 patrons: a 93 login
  // per pooled connection, then one 63 per sign-in.
  sip2: async () => {
    const patrons: SimPatron[] = Array.from({ length: 1000 }, (_, i) => ({
      card: String(29_100_000_000_000 + i),
      pin: String(1000 + (i % 9000)),
      id: `ils-${i}`,
      name: `Bench Patron ${i}`,
    }));
    const sim = await startSip2Server({
      dialect: 'evergreen',
      login: { user: 'patronym', password: 'sip-secret' },
      patrons,
    });
    return {
      config: library('sip2', {
        servers: [{ host: '127.0.0.1', port: sim.port, allowInsecure: true }],
        login: { user: 'patronym', password: 'sip-secret' },
        stableIdField: 'XI',
        poolSize: 8,
      }),
      cards: patrons.map((p) => ({ card: p.card, pin: p.pin as string })),
      teardown: () => sim.stop(),
    };
  },
};
