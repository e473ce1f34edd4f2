import { projectConfig } from '../../vitest.shared.js';

export default projectConfig('node-store', import.meta.dirname);
