import { defineConfig } from 'vitest/config';

/**
 * One Vitest run covers every project (each has its own vitest.config.ts).
 * Integration tests start real processes and talk to a real Redis, so files run
 * in at most two forks (set per project in vitest.shared.ts, where Vitest applies it)
 * and timeouts are generous.
 * bench and chaos (`sequence.groupOrder` 1) run in a group of their own, never beside
 * the other files: their quick runs start a dozen processes each and would starve the
 * timing-sensitive tests beside them (a browser long-task bound, sub-second delivery
 * checks).
 */
export default defineConfig({
  test: {
    projects: [
      'libs/*/vitest.config.ts',
      'apps/*/vitest.config.ts',
      'apps/web/vitest.scale.config.ts',
      'bench/vitest.config.ts',
      'chaos/vitest.config.ts',
    ],
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default', ['json', { outputFile: 'reports/vitest.json' }]],
  },
});
