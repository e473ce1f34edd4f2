import { projectConfig } from '../../vitest.shared.js';

export default projectConfig('node-ops', import.meta.dirname);
