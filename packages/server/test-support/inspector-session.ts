// Drives the /inspect page in headless Chromium: shared by the page's test and the README screenshots.
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';

export { chromiumPath, hasChromium, launchChromium } from '../../../test/support/launch-chromium.js';

export const sampleHistoryPath = fileURLToPath(
  new URL('../../../examples/sample-history.jsonl', import.meta.url),
);

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
