import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { WORKSPACE_ROOT, spawnProcess } from './processes.js';

/** The built dashboard the gateway serves. */
export const WEB_DIST = resolve(WORKSPACE_ROOT, 'apps/web/dist');

const SOURCES = [
  'apps/web/index.html',
  'apps/web/vite.config.ts',
  'apps/web/src',
  'libs/contracts/src',
  'libs/client/src',
];

function newestMtime(path: string): number {
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.mtimeMs;
  let newest = stats.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** Whether apps/web/dist is missing or older than any of its sources. */
export function webBuildIsStale(): boolean {
  const index = join(WEB_DIST, 'index.html');
  if (!existsSync(index)) return true;
  const built = statSync(index).mtimeMs;
  return SOURCES.some((s) => newestMtime(resolve(WORKSPACE_ROOT, s)) > built);
}

/**
 * Runs `vite build` (what `npm run web:build` runs) when the dashboard is missing or
 * stale, so the end-to-end suite works from a clean clone and always tests the
 * current sources. Throws with the build's output when it fails.
 */
export async function ensureWebBuild(): Promise<'built' | 'fresh'> {
  if (!webBuildIsStale()) return 'fresh';
  const build = spawnProcess({
    name: 'vite-build',
    args: [
      resolve(WORKSPACE_ROOT, 'node_modules/vite/bin/vite.js'),
      'build',
      '--config',
      'apps/web/vite.config.ts',
    ],
  });
  const exit = await build.exited;
  if (exit.code !== 0) throw new Error(`vite build failed (${JSON.stringify(exit)})\n${build.tail(60)}`);
  return 'built';
}
