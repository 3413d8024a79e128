// Backends to measure. Each returns the broker configuration (merged over
// the demo one) and the cards to sign in with.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConfigInput } from '../src/config/schema.ts';
import type { SimPatron } from '../test/support/sip2-dialects.ts';
import { startSip2Server } from '../test/support/sip2-server.ts';
import { generatePatrons, startSlapd } from '../test/support/slapd.ts';

export interface ScenarioSetup {
  config: Partial<ConfigInput>;
  cards: { card: string; pin: string }[];
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
  // The demo patron file: scrypt (N=2^14) per PIN check dominates.
  file: async () => ({
    config: {},
    cards: [
      { card: '21234000000001', pin: '1234' },
      { card: '21234000000002', pin: '2345' },
    ],
  }),

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
