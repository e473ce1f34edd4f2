import { projectConfig } from '../../vitest.shared.js';

export default projectConfig('client', import.meta.dirname);
