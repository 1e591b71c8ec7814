import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Access logs are for operators; tests assert on answers.
    env: { SLIPWAY_LOG_LEVEL: 'warn' },
  },
});
