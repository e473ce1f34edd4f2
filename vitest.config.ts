import { defineConfig } from 'vitest/config';

/**
 * One Vitest run covers every project (each has its own vitest.config.ts).
 * Integration tests start real processes and talk to a real Redis, so files run
 * in at most two forks (this machine has two cores) and timeouts are generous.
 */
export default defineConfig({
  test: {
    projects: ['libs/*/vitest.config.ts', 'apps/*/vitest.config.ts', 'bench/vitest.config.ts', 'chaos/vitest.config.ts'],
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default', ['json', { outputFile: 'reports/vitest.json' }]],
  },
});
