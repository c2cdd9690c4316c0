import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath, hasChromium, launchChromium } from '../../../test/support/launch-chromium.js';
import { renderMarkdownReport } from './render-report.js';
import { readResults, writeResult } from './results-store.js';
import { runEvalCli } from './run-eval-cli.js';

if (!hasChromium) {
  console.warn(
    `Skipping the report rendering test: no Chromium at ${chromiumPath} (apt-get install -y chromium).`,
  );
}

// Made-up numbers: they only have to show up in the page.
const recall: Record<string, number[]> = {
  bm25: [0.301, 0.262, 0.231, 0.188],
  userplug: [0.412, 0.371, 0.347, 0.298],
};
let results: string;

beforeAll(() => {
  results = mkdtempSync(join(tmpdir(), 'userplug-report-'));
  for (const [method, values] of Object.entries(recall)) {
    ['0.0', '0.3', '0.5', '0.7'].forEach((noise, index) => {
      writeResult(
        {
          benchmark: 'personabench',
          task: 'retrieval',
          community: 'community_0',
          noise,
          k: 5,
          method,
          encoder: method === 'bm25' ? null : 'use-lite-512',
          sessionText: 'history-item',
          recall: values[index]!,
          ndcg: values[index]! - 0.05,
          n: 116,
          byType: {},
          byCategory: { Preference_hard: { recall: 0.5, ndcg: 0.25, n: 26 } },
          createdAt: '2026-01-01T00:00:00.000Z',
        } as never,
        results,
      );
    });
  }
  writeResult(
    {
      benchmark: 'lamp',
      task: 'LaMP_2',
      split: 'dev',
      timeBased: false,
      method: 'bm25-k',
      k: 1,
      model: 'majority',
      modelKind: 'baseline',
      metrics: { accuracy: 0.6543, f1: 0.4321, n: 2, invalid: 0 },
      createdAt: '2026-01-01T00:00:00.000Z',
    } as never,
    results,
  );
});
afterAll(() => rmSync(results, { recursive: true, force: true }));

describe('userplug-eval report', () => {
  it('writes a Markdown table of methods by noise level', async () => {
    const markdown = renderMarkdownReport(readResults(results));
    expect(markdown).toContain('| method | noise 0.0 | noise 0.3 | noise 0.5 | noise 0.7 |');
    expect(markdown).toContain(
      '| userplug | 0.412 / 0.362 | 0.371 / 0.321 | 0.347 / 0.297 | 0.298 / 0.248 |',
    );
    expect(markdown).toContain('Preference (hard) (n 26)');
    expect(markdown).toContain('| bm25-k (k 1) | majority (baseline, not an LLM) | 0.6543 | 0.4321 |');
    let stdout = '';
    const io = { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: () => true } };
    expect(await runEvalCli(['report', '--results', results], io)).toBe(0);
    expect(stdout).toContain('9 results');
    expect(readFileSync(join(results, 'report.md'), 'utf8')).toBe(markdown);
    const html = readFileSync(join(results, 'report.html'), 'utf8');
    expect(html).not.toMatch(/<script|<link|src="http/);
  });

  it.skipIf(!hasChromium)(
    'renders the HTML page in headless Chromium with charts that show the numbers',
    async () => {
      const browser = await launchChromium();
      try {
        const page = await browser.newPage();
        const requested: string[] = [];
        page.on('request', (request) => requested.push(request.url()));
        const url = pathToFileURL(join(results, 'report.html')).toString();
        await page.goto(url);
        expect(requested).toEqual([url]);
        const text = (await page.locator('body').textContent()) ?? '';
        for (const value of ['0.347', '0.231', '0.6543', 'noise 0.7', 'userplug'])
          expect(text).toContain(value);
        expect(await page.locator('svg').count()).toBe(4);
        const chartText = await page.locator('svg').first().textContent();
        expect(chartText).toContain('0.347');
        const bar = await page
          .locator('svg rect title', { hasText: 'userplug, Recall@5: 0.347' })
          .locator('..')
          .boundingBox();
        expect(bar!.height).toBeGreaterThan(10);
        const lines = page.locator('svg polyline');
        expect(await lines.count()).toBe(4);
        expect((await lines.first().boundingBox())!.width).toBeGreaterThan(100);
      } finally {
        await browser.close();
      }
    },
  );
});
