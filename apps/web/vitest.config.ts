import { mergeConfig } from 'vitest/config';
import { projectConfig } from '../../vitest.shared.js';

/**
 * Unit specs of the dashboard's logic (plain TypeScript, run in Node) and the
 * end-to-end suite in real headless Chromium (test/). The global setup builds the
 * dashboard first when apps/web/dist is missing or older than its sources, so a
 * clean clone's `npm test` works.
 */
export default mergeConfig(projectConfig('web', import.meta.dirname), {
  test: {
    testTimeout: 60_000,
    hookTimeout: 180_000,
    globalSetup: ['test/support/global-setup.ts'],
    // Its long-task bound runs alone, in the whole-system group (vitest.scale.config.ts).
    exclude: ['test/dashboard-scale.test.ts', '**/node_modules/**'],
  },
});
