import { projectConfig } from '../../vitest.shared.js';

export default projectConfig('fake-cluster', import.meta.dirname);
