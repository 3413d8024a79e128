// Backends to measure. Each returns the broker configuration (merged over
// the demo one) and the cards to sign in with.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConfigInput } from '../src/config/schema.ts';
import { generatePatrons, startSlapd } from '../test/support/slapd.ts';

export interface ScenarioSetup {
  config: Partial<ConfigInput>;
  cards: { card: string; pin: string }[];
  teardown?: () => Promise<void>;
}

export type Scenario = () => Promise<ScenarioSetup>;

const library = (authenticator: Record<string, unknown>): Partial<ConfigInput> => ({
  libraries: [
    {
      id: 'springfield',
      name: 'Springfield Public Library',
      realm: 'springfield',
      authenticators: [{ kind: 'ldap', ...authenticator } as { kind: string }],
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
      config: library({
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
};
