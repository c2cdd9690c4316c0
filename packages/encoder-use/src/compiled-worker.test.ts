import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const compiledEntry = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const compiledCore = fileURLToPath(new URL('../../core/dist/index.js', import.meta.url));
const isBuilt = existsSync(compiledEntry) && existsSync(compiledCore);

// Plain node without tsx can only start the workers from the compiled use-encoder-worker.js.
const script = `
const { createUseEncoder } = await import(${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)});
const encoder = createUseEncoder({ threads: 2, batchSize: 1 });
const [a, b, c] = await encoder.encode(['I love hiking in the mountains', 'Trekking up alpine trails is my favourite hobby', 'The quarterly tax report is due on Friday']);
const dot = (x, y) => x.reduce((sum, value, index) => sum + value * y[index], 0);
await encoder.dispose();
console.log(JSON.stringify([dot(a, b), dot(a, c)]));
`;

describe.skipIf(!isBuilt)('the compiled package (run `npm run build` first)', () => {
  it('starts its worker threads from dist/ under plain node', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--input-type=module', '--eval', script],
      {
        timeout: 30_000,
      },
    );
    const [similar, unrelated] = JSON.parse(stdout.trim()) as [number, number];
    expect(similar).toBeCloseTo(0.7139, 3);
    expect(unrelated).toBeCloseTo(0.0875, 3);
  });
});
