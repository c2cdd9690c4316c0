// Takes the README's screenshots of the /inspect page (1280×800 and 390×844) with the embedded default encoder.
// Run: node --conditions=@userplug/source --import tsx packages/server/bench/inspector-screenshots.ts
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createMemoryStore } from '@userplug/core';
import { createKeyStore, createUserplugServer } from '@userplug/server';
import {
  launchChromium,
  personalizeWithKeyboard,
  sampleHistoryPath,
} from '../test-support/inspector-session.js';

const docs = fileURLToPath(new URL('../docs/', import.meta.url));
const keys = createKeyStore();
const { key } = await keys.createKey({ tenant: 'demo' });
const server = createUserplugServer({ store: createMemoryStore(), keys, log: false });
const url = await server.listen({ port: 0 });
await server.ready();
const items = readFileSync(sampleHistoryPath, 'utf8')
  .split('\n')
  .filter((line) => line.trim().length > 0)
  .map((line) => JSON.parse(line));
const ingest = await fetch(`${url}/v1/users/maya/items`, {
  method: 'POST',
  headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
  body: JSON.stringify({ items }),
});
if (!ingest.ok) throw new Error(`ingest failed: ${await ingest.text()}`);

const browser = await launchChromium();
try {
  for (const [width, height] of [
    [1280, 800],
    [390, 844],
  ] as const) {
    const page = await browser.newPage({ viewport: { width, height } });
    await page.goto(`${url}/inspect`);
    await personalizeWithKeyboard(page, {
      key,
      userId: 'maya',
      prompt: 'What should I cook after a long trail run?',
    });
    // The phone shot starts at the results: the form alone says little.
    if (width < 600) await page.locator('#tokens-panel').evaluate((node) => node.scrollIntoView());
    await page.screenshot({ path: `${docs}inspect-${width}x${height}.png` });
    await page.close();
    process.stderr.write(`wrote ${docs}inspect-${width}x${height}.png\n`);
  }
} finally {
  await browser.close();
  await server.close();
}
