import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Workers are forked after the global setup has set NODE_EXTRA_CA_CERTS, so they trust the sandbox CA.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
