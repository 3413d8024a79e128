// Backends to measure. Each returns the broker configuration (merged over
// the demo one) and the cards to sign in with.
import type { ConfigInput } from '../src/config/schema.ts';

export interface ScenarioSetup {
  config: Partial<ConfigInput>;
  cards: { card: string; pin: string }[];
  teardown?: () => Promise<void>;
}

export type Scenario = () => Promise<ScenarioSetup>;

export const scenarios: Record<string, Scenario> = {
  // The demo patron file: scrypt (N=2^14) per PIN check dominates.
  file: async () => ({
    config: {},
    cards: [
      { card: '21234000000001', pin: '1234' },
      { card: '21234000000002', pin: '2345' },
    ],
  }),
};
