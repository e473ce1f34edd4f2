import { projectConfig } from '../../vitest.shared.js';

export default projectConfig('notifications', import.meta.dirname);
