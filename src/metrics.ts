// Prometheus metrics. Labels name libraries, authenticators and outcomes,
// never a patron.
import { Counter, Histogram, Registry } from 'prom-client';

export interface Metrics {
  registry: Registry;
  logins: Counter<'library' | 'authenticator' | 'outcome' | 'reason'>;
  backendSeconds: Histogram<'authenticator' | 'outcome'>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  return {
    registry,
    logins: new Counter({
      name: 'patronym_logins_total',
      help: 'Sign-in attempts by library, deciding authenticator and outcome.',
      labelNames: ['library', 'authenticator', 'outcome', 'reason'],
      registers: [registry],
    }),
    backendSeconds: new Histogram({
      name: 'patronym_authenticator_seconds',
      help: 'Time each authenticator took to answer, by outcome.',
      labelNames: ['authenticator', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
  };
}
