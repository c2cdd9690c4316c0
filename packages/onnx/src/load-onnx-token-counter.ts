import { basename, resolve } from 'node:path';
import type { TokenCounter } from '@userplug/core';
import { loadChatTokenizer } from './chat-tokenizer.js';

/**
 * Counts tokens with a local model's own tokenizer, so a personalizer you create yourself holds
 * persona budgets in that model's tokens: `createPersonalizer({ tokenCounter: await loadOnnxTokenCounter({ modelDirectory }) })`.
 */
export async function loadOnnxTokenCounter(options: { modelDirectory: string }): Promise<TokenCounter> {
  const directory = resolve(options.modelDirectory);
  return (await loadChatTokenizer(directory, `onnx:${basename(directory)}`)).tokenCounter;
}
