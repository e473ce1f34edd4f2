import { projectConfig } from '../../vitest.shared.js';

export default projectConfig('launcher', import.meta.dirname);
