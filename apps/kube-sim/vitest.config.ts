import { projectConfig } from '../../vitest.shared.js';

export default projectConfig('kube-sim', import.meta.dirname);
