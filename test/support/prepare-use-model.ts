// Vitest global setup: converts the USE-lite graph once per test run into a temporary cache folder that every
// test process reads (through USERPLUG_CACHE_DIR), instead of each process converting, or writing to ~/.cache.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createUseEncoder } from '@userplug/encoder-use';

export default async function prepareUseModel(): Promise<() => void> {
  if (process.env.USERPLUG_CACHE_DIR !== undefined) return () => undefined;
  const directory = mkdtempSync(join(tmpdir(), 'userplug-test-cache-'));
  process.env.USERPLUG_CACHE_DIR = directory;
  const encoder = createUseEncoder({ threads: 1 });
  await encoder.encode(['warm up']);
  await encoder.dispose();
  return () => rmSync(directory, { recursive: true, force: true });
}
