/**
 * A local LLM with the user plugged in as soft tokens (@userplug/onnx).
 *
 *   node --conditions=@userplug/source --import tsx examples/onnx-soft-prompts.ts
 *   node --conditions=@userplug/source --import tsx examples/onnx-soft-prompts.ts --model ./models/Qwen2.5-0.5B-Instruct
 *
 * Without --model it runs offline on the seeded tiny test decoder (random weights: the text is
 * gibberish, the mechanics are real: soft tokens, the persona-prefix cache, streaming). With
 * --model it loads a Hugging Face ONNX decoder directory you downloaded, for example with
 * `huggingface-cli download onnx-community/Qwen2.5-0.5B-Instruct --local-dir ./models/Qwen2.5-0.5B-Instruct`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createHashingEncoder, createPersonalizer, readHistoryFile } from '@userplug/core';
import { createOnnxAdapter, loadOnnxTokenCounter } from '@userplug/onnx';
import { buildTinyDecoder } from '@userplug/onnx/testing';

const { values } = parseArgs({ options: { model: { type: 'string' } } });
const scratch = await mkdtemp(join(tmpdir(), 'userplug-onnx-example-'));
const modelDirectory =
  values.model ?? (await buildTinyDecoder({ directory: join(scratch, 'tiny') })).directory;

// The tiny model gets the instant lexical test encoder; a real model the embedded default encoder.
const personalizer = values.model
  ? createPersonalizer({ tokenCounter: await loadOnnxTokenCounter({ modelDirectory }) })
  : createPersonalizer({
      encoder: createHashingEncoder(),
      tokenCounter: await loadOnnxTokenCounter({ modelDirectory }),
      // The tiny tokenizer spends about one token per 1.5 characters: give evidence room.
      budget: 800,
    });

const adapter = createOnnxAdapter({
  modelDirectory,
  personalizer,
  system: 'You are a helpful assistant. Answer in two or three sentences.',
  softTokens: { profile: 2, query: 2 },
  personaText: 'stable',
  ...(values.model ? {} : { cacheDirectory: join(scratch, 'cache') }),
});

try {
  const history = await readHistoryFile(new URL('./sample-history.jsonl', import.meta.url).pathname);
  const first = await adapter.generate({
    userId: 'sample-user',
    history,
    prompt: 'Suggest a weekend plan for me',
    maxOutputTokens: 48,
  });
  console.log('Answer:', JSON.stringify(first.text));
  console.log('Evidence:', first.persona.evidence.map((item) => item.itemId).join(', '));
  console.log('Usage:', first.usage, first.timings);

  // Same user, new prompt: the persona prefix (system prompt, stable persona, profile soft tokens) is reused.
  process.stdout.write('Streamed: ');
  for await (const part of adapter.stream({
    userId: 'sample-user',
    prompt: 'What should I cook tonight?',
    maxOutputTokens: 48,
  })) {
    if (part.type === 'text-delta') process.stdout.write(part.text);
    if (part.type === 'finish') {
      console.log(
        `\nReused ${part.usage.cachedInputTokens} of ${part.usage.inputTokens} input positions;`,
        `time to first token ${part.timings.timeToFirstTokenMs?.toFixed(0)} ms (first call: ${first.timings.timeToFirstTokenMs?.toFixed(0)} ms).`,
      );
    }
  }
} finally {
  await adapter.dispose();
  await personalizer.dispose();
  await rm(scratch, { recursive: true, force: true });
}
