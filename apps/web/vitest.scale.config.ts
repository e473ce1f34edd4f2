import { mergeConfig } from 'vitest/config';
import { projectConfig } from '../../vitest.shared.js';

/**
 * The 5,000-node dashboard test alone: its bound on main-thread stalls is a timing
 * bound, so it runs in the group that never shares the machine with another file
 * (group 1, one file at a time), not beside the other integration tests.
 */
const base = projectConfig('web-scale', import.meta.dirname, 1, ['test/dashboard-scale.test.ts']);

export default mergeConfig(base, {
  test: { testTimeout: 60_000, hookTimeout: 180_000, globalSetup: ['test/support/global-setup.ts'] },
});
