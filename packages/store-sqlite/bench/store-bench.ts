import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { benchStore, type StoreBenchResult, type StoreBenchSettings } from '@userplug/store-kit/testing';
import { createSqliteStore, type VectorQuantization } from '@userplug/store-sqlite';

/** {@link benchStore} on a new SQLite file in a temporary folder (deleted afterwards); adds the file size per item. */
export async function benchSqliteStore(
  settings: StoreBenchSettings & { quantization?: VectorQuantization } = {},
): Promise<StoreBenchResult & { fileBytesPerItem: number }> {
  const folder = mkdtempSync(join(tmpdir(), 'userplug-store-bench-'));
  const quantization = settings.quantization ?? 'float32';
  const path = join(folder, 'bench.db');
  try {
    const result = await benchStore(
      `sqlite (${quantization})`,
      async () => createSqliteStore({ path, quantization }),
      settings,
    );
    // Two users of `items` items each (the ingested one and its copy), and 50 warm-up items.
    const bytes = ['', '-wal'].reduce(
      (sum, suffix) => sum + (statSync(`${path}${suffix}`, { throwIfNoEntry: false })?.size ?? 0),
      0,
    );
    return { ...result, fileBytesPerItem: Math.round(bytes / (2 * result.items + 50)) };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const items = Number(process.argv[2] ?? 1_000);
  for (const quantization of ['float32', 'int8'] as const) {
    console.log(JSON.stringify(await benchSqliteStore({ items, quantization })));
  }
}
