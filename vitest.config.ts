import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // In CI a JSON report too, from which .ci/run prints the plain `N passed, N failed` line.
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.slipway/test-results.json' }]] : ['default'],
    // Access logs are for operators; tests assert on answers.
    env: { SLIPWAY_LOG_LEVEL: 'warn' },
  },
});
