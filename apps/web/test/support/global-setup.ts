import { ensureWebBuild } from '@knm/testing';

/**
 * Vitest global setup of the web project: builds the dashboard once, before any
 * test file starts, when apps/web/dist is missing or older than its sources (the
 * end-to-end files run in parallel and must not build into the same directory at once).
 */
export default async function setup(): Promise<void> {
  await ensureWebBuild();
}
