import { resolve } from 'node:path';
import { defaultClientConditions, defaultServerConditions } from 'vite';
import { defineConfig, type ViteUserConfig } from 'vitest/config';

/** The export condition under which every `@knm/*` package resolves to its TypeScript source. */
export const SOURCE_CONDITION = '@knm/source';

/**
 * The Vitest configuration every project shares: source resolution of workspace
 * packages, spec files beside the code (`src/**\/*.spec.ts`) and integration tests
 * under `test/` (`test/**\/*.test.ts`), and timeouts that fit real processes.
 * Projects of different `groupOrder`s never run at the same time (see the root
 * vitest.config.ts). `maxWorkers` is set here, per project, because Vitest 5 ignores
 * the root config's once `projects` is used: the default group runs two files at
 * once, one per core; the group of whole-system runs and timing bounds (bench, chaos,
 * the 5,000-node dashboard) one at a time, never beside another file.
 */
export function projectConfig(
  name: string,
  root: string,
  groupOrder = 0,
  include = ['src/**/*.spec.ts', 'test/**/*.test.ts'],
): ViteUserConfig {
  return defineConfig({
    root,
    resolve: {
      conditions: [SOURCE_CONDITION, ...defaultClientConditions],
      // Global setup files are loaded by a module runner that ignores custom export
      // conditions, so workspace libraries are also aliased to their sources.
      alias: [
        { find: /^@knm\/([a-z-]+)$/, replacement: resolve(import.meta.dirname, 'libs/$1/src/index.ts') },
      ],
    },
    ssr: { resolve: { conditions: [SOURCE_CONDITION, ...defaultServerConditions] } },
    test: {
      name,
      include,
      testTimeout: 30_000,
      hookTimeout: 60_000,
      sequence: { groupOrder },
      maxWorkers: groupOrder === 0 ? 2 : 1,
    },
  });
}
