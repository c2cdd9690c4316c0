import type { Encoder } from './encoder.js';
import { EncoderError } from './userplug-error.js';

const defaultEncoderPackage = '@userplug/encoder-use';
let shared: Promise<Encoder> | undefined;

/**
 * The embedded default encoder (Universal Sentence Encoder lite, offline), loaded once per process
 * from the optional package `@userplug/encoder-use`, so core itself carries no model runtime.
 */
export function loadDefaultEncoder(): Promise<Encoder> {
  shared ??= (async () => {
    let module: { createUseEncoder?: () => Encoder };
    try {
      // A variable specifier keeps bundlers and tsc from requiring the optional package.
      const specifier: string = defaultEncoderPackage;
      module = (await import(specifier)) as typeof module;
    } catch (error) {
      shared = undefined;
      throw new EncoderError(
        `No encoder was given and the default encoder package ${defaultEncoderPackage} could not be loaded. ` +
          `Run \`npm install ${defaultEncoderPackage}\`, or pass \`encoder\` (for example from @userplug/transformers).`,
        {},
        { cause: error },
      );
    }
    if (typeof module.createUseEncoder !== 'function') {
      shared = undefined;
      throw new EncoderError(
        `${defaultEncoderPackage} does not export createUseEncoder. Install a version that matches @userplug/core.`,
      );
    }
    return module.createUseEncoder();
  })();
  return shared;
}
