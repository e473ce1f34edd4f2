import { projectConfig } from '../../vitest.shared.js';

export default projectConfig('contracts', import.meta.dirname);
