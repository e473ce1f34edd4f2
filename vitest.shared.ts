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
 * the root config's once `projects` is used. One file at a time: most integration
 * files start several processes that already keep both cores busy, so two at once
 * saved little (18.8 min instead of about 21) and broke the timing bounds of three of
 * them in a fresh-clone run (a browser long-task bound, a Redis Cluster's answer
 * within 1.5 s, a pool's shares settling).
 */
export function projectConfig(name: string, root: string, groupOrder = 0): ViteUserConfig {
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
      include: ['src/**/*.spec.ts', 'test/**/*.test.ts'],
      testTimeout: 30_000,
      hookTimeout: 60_000,
      sequence: { groupOrder },
      maxWorkers: 1,
    },
  });
}
