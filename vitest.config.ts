import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const packagesDirectory = fileURLToPath(new URL('./packages/', import.meta.url));

// Tests import workspace packages from their TypeScript sources, never from a stale dist/.
const alias = readdirSync(packagesDirectory).map((folder) => {
  const manifest = JSON.parse(readFileSync(`${packagesDirectory}${folder}/package.json`, 'utf8')) as { name: string };
  return { find: new RegExp(`^${manifest.name}$`), replacement: `${packagesDirectory}${folder}/src/index.ts` };
});

export default defineConfig({
  resolve: { alias },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts', 'evals/**/*.test.ts', 'examples/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
