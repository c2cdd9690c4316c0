import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  hasChromium,
  launchChromium,
  personalizeWithKeyboard,
  sampleHistoryPath,
} from '../test-support/inspector-session.js';
import { startTestServer } from '../test-support/test-server.js';

if (!hasChromium) console.warn('Skipping the /inspect page test: no Chromium (apt-get install -y chromium).');

const history = readFileSync(sampleHistoryPath, 'utf8')
  .split('\n')
  .filter((line) => line.trim().length > 0)
  .map((line) => JSON.parse(line) as { id: string; text: string });
const prompt = 'What should I cook after a long trail run?';

describe.skipIf(!hasChromium)('the /inspect page in headless Chromium', () => {
  let context: Awaited<ReturnType<typeof startTestServer>> & { url: string; key: string };
  let browser: Awaited<ReturnType<typeof launchChromium>>;

  beforeAll(async () => {
    const started = await startTestServer();
    const key = await started.keyFor('acme');
    await started.request('POST', '/v1/users/maya/items', { key, body: { items: history } });
    const url = await started.server.listen({ port: 0 });
    context = { ...started, url, key };
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await context?.server.close();
  });

  it('personalizes from the keyboard and shows the persona text, attributions, timeline and tokens', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const requested: string[] = [];
    page.on('request', (request) => requested.push(request.url()));
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${context.url}/inspect`);
    await personalizeWithKeyboard(page, { key: context.key, userId: 'maya', prompt });

    const expected = await context.request('POST', '/v1/users/maya/personalize', {
      key: context.key,
      body: { prompt, budget: 300, maxAttributions: 200 },
    });
    expect(await page.locator('#persona').textContent()).toBe(expected.json.messages[0].content);
    const bars = page.locator('#attributions .attribution');
    expect(await bars.count()).toBe(10);
    const top = expected.json.persona.attributions[0];
    const topText = history.find((item) => item.id === top.itemId)!.text;
    expect(await bars.first().locator('.quote').textContent()).toBe(topText);
    expect(await bars.first().locator('.weight').textContent()).toBe(
      `${(top.weight * 100).toFixed(top.weight >= 0.1 ? 1 : 2)}%`,
    );
    expect(await page.locator('#timeline .event').count()).toBe(history.length);
    expect(await page.locator('#tokens').textContent()).toContain(
      `Persona ${expected.json.usage.personaTokens} of 300 budget tokens`,
    );

    // Keyboard: from the form, Tab reaches the first bar; Enter selects its item in the timeline.
    const focused = page.locator(':focus');
    await page.locator('#submit').focus();
    await page.keyboard.press('Tab');
    for (let step = 0; step < 10 && !(await focused.getAttribute('class'))?.includes('bar-button'); step++) {
      await page.keyboard.press('Tab');
    }
    expect(await focused.getAttribute('data-item-id')).toBe(top.itemId);
    await page.keyboard.press('Enter');
    expect(await focused.getAttribute('data-item-id')).toBe(top.itemId);
    expect(await focused.getAttribute('class')).toContain('selected');

    // Only the local server is ever asked for anything: no CDN.
    const origin = new URL(context.url).origin;
    expect(requested.every((url) => url.startsWith(origin))).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('fits a 390×844 phone screen and shows API errors in an alert', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await page.goto(`${context.url}/inspect`);
    await personalizeWithKeyboard(page, { key: context.key, userId: 'maya', prompt: 'Recommend a novel' });
    const overflow = await page.evaluate('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    const fontSize = await page.evaluate(
      "parseFloat(getComputedStyle(document.querySelector('.quote')).fontSize)",
    );
    expect(fontSize).toBeGreaterThanOrEqual(12);

    await page.locator('#key').fill('upk_0000000000000000_not-a-real-key-000000000000000000000000000');
    await page.locator('#prompt').press('Enter');
    await page.locator('#failure').waitFor({ state: 'visible' });
    expect(await page.locator('#failure').textContent()).toMatch(/^401: The API key is not valid/);
    await page.close();
  });
});
