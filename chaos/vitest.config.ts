import { projectConfig } from '../vitest.shared.js';

// After the other projects: its smoke run starts a whole system of processes (see the root config).
export default projectConfig('chaos', import.meta.dirname, 1);
