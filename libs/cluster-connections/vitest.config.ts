import { projectConfig } from '../../vitest.shared.js';

export default projectConfig('cluster-connections', import.meta.dirname);
