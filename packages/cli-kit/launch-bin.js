import { existsSync } from 'node:fs';
import { register } from 'node:module';

// Adds the @userplug/source export condition, so workspace packages resolve to their TypeScript sources.
const sourceCondition = `export async function resolve(specifier, context, nextResolve) {
  return nextResolve(specifier, { ...context, conditions: [...context.conditions, '@userplug/source'] });
}`;

/**
 * Runs a package's `bin` entry: the compiled `dist/bin.js` of an installed package, or `src/bin.ts` in a
 * checkout of the repository (where `src/` exists), as `node --conditions=@userplug/source --import tsx`
 * would, so `npx userplug` works right after `npm ci` and never runs a stale build.
 *
 * @param {URL} packageRoot The folder holding the package's package.json, ending in `/`.
 * @returns {Promise<unknown>}
 */
export async function launchBin(packageRoot) {
  const source = new URL('src/bin.ts', packageRoot);
  if (!existsSync(source)) return import(new URL('dist/bin.js', packageRoot).href);
  let tsx;
  try {
    tsx = await import('tsx/esm/api');
  } catch (error) {
    throw new Error(
      `Running ${source.pathname} needs the repository's dev dependencies (tsx). Run \`npm ci\` at the repository root.`,
      { cause: error },
    );
  }
  tsx.register();
  register(`data:text/javascript,${encodeURIComponent(sourceCondition)}`);
  return import(source.href);
}
