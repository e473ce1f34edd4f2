import { projectConfig } from '../../vitest.shared.js';

export default projectConfig('kube-reflector', import.meta.dirname);
