import { projectConfig } from '../vitest.shared.js';

// In a group of its own: its smoke run starts a whole system of processes (see the root config).
export default projectConfig('chaos', import.meta.dirname, 1);
