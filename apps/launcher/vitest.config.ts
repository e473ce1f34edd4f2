import { mergeConfig } from 'vitest/config';
import { projectConfig } from '../../vitest.shared.js';

export default mergeConfig(projectConfig('launcher', import.meta.dirname), {
  test: { globalSetup: ['test/support/global-setup.ts'] },
});
