// Drives the /inspect page in headless Chromium: shared by the page's test and the README screenshots.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';

/** Chromium as Debian installs it (`apt-get install -y chromium`), or CHROMIUM_PATH. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const hasChromium = existsSync(chromiumPath);
export const sampleHistoryPath = fileURLToPath(
  new URL('../../../examples/sample-history.jsonl', import.meta.url),
);

/** Headless Chromium with no network of its own: only the page's requests to the local server. */
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

/** Fills the form with the keyboard alone (Tab between fields, Enter submits) and waits for the attributions. */
export async function personalizeWithKeyboard(
  page: Page,
  input: { key: string; userId: string; prompt: string },
): Promise<void> {
  await page.locator('#key').focus();
  await page.keyboard.type(input.key);
  await page.keyboard.press('Tab');
  await page.keyboard.type(input.userId);
  await page.keyboard.press('Tab');
  await page.keyboard.type(input.prompt);
  await page.keyboard.press('Enter');
  await page.locator('#attributions .attribution').first().waitFor({ state: 'visible', timeout: 30_000 });
}
