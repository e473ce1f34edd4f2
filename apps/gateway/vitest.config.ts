import { projectConfig } from '../../vitest.shared.js';

export default projectConfig('gateway', import.meta.dirname);
