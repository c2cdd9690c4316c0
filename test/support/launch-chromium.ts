// Headless Chromium for the tests that render pages (the eval report, the /inspect page).
import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';

/** Chromium as Debian installs it (`apt-get install -y chromium`), or CHROMIUM_PATH. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const hasChromium = existsSync(chromiumPath);

/** Headless Chromium with no network of its own: only the page's requests to local servers and files. */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}
