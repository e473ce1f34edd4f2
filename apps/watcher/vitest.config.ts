import { projectConfig } from '../../vitest.shared.js';

export default projectConfig('watcher', import.meta.dirname);
