import { projectConfig } from '../../vitest.shared.js';

export default projectConfig('secrets', import.meta.dirname);
