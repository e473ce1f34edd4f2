import { projectConfig } from '../../vitest.shared.js';

export default projectConfig('auth', import.meta.dirname);
