import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const packagesDirectory = fileURLToPath(new URL('./packages/', import.meta.url));

// Tests import workspace packages from their TypeScript sources, never from a stale dist/.
const alias = readdirSync(packagesDirectory).flatMap((folder) => {
  const manifest = JSON.parse(readFileSync(`${packagesDirectory}${folder}/package.json`, 'utf8')) as {
    name: string;
    exports?: Record<string, Record<string, string> | string>;
  };
  return Object.entries(manifest.exports ?? {}).flatMap(([subpath, target]) => {
    const source = typeof target === 'object' ? target['@userplug/source'] : undefined;
    if (source === undefined) return [];
    const specifier = subpath === '.' ? manifest.name : `${manifest.name}/${subpath.slice(2)}`;
    return [
      { find: new RegExp(`^${specifier}$`), replacement: `${packagesDirectory}${folder}/${source.slice(2)}` },
    ];
  });
});

export default defineConfig({
  resolve: { alias },
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'test/**/*.test.ts',
      'evals/**/*.test.ts',
      'examples/**/*.test.ts',
    ],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    globalSetup: ['test/support/prepare-use-model.ts'],
  },
});
