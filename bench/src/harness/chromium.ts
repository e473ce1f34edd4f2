import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/**
 * Headless Debian Chromium (`KNM_CHROMIUM`, default /usr/bin/chromium), as the
 * dashboard's browser tests drive it; Playwright's own browser download is never used.
 */
export async function launchChromium(): Promise<Browser> {
  const executablePath = process.env['KNM_CHROMIUM'] ?? '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    throw new Error(
      `no Chromium at ${executablePath}: install Debian's chromium (apt-get install chromium) or set KNM_CHROMIUM`,
    );
  }
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
    ],
  });
}
