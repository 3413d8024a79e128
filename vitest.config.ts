import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    // Integration tests start real servers on loopback ports; keep the
    // machine (2 cores) from being oversubscribed.
    maxWorkers: 2,
  },
});
