import { ensureWebBuild } from '@knm/testing';

/**
 * Vitest global setup of the launcher project: `npm start` serves the dashboard, and
 * its test opens the printed URL in Chromium, so the dashboard must be built (once,
 * before any test file; a no-op when the web project's setup already built it).
 */
export default async function setup(): Promise<void> {
  await ensureWebBuild();
}
