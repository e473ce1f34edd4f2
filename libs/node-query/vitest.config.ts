import { projectConfig } from '../../vitest.shared.js';

export default projectConfig('node-query', import.meta.dirname);
