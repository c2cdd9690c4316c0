/**
 * Personas with any Hugging Face ONNX sentence-embedding model (@userplug/transformers).
 *
 *   node --conditions=@userplug/source --import tsx examples/transformers-encoder.ts
 *   node --conditions=@userplug/source --import tsx examples/transformers-encoder.ts --model Xenova/bge-small-en-v1.5 --allow-remote
 *   node --conditions=@userplug/source --import tsx examples/transformers-encoder.ts --model ./models/all-MiniLM-L6-v2
 *
 * Without --model it runs offline on a seeded tiny BERT-style encoder (random weights: the
 * similarities mean nothing, the mechanics are real). --allow-remote lets @huggingface/transformers
 * download the model once (into its cache); without it only local files are read.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createPersonalizer, readHistoryFile } from '@userplug/core';
import { buildTinyBertEncoder } from '@userplug/onnx/testing';
import { createTransformersEncoder } from '@userplug/transformers';

const { values } = parseArgs({
  options: { model: { type: 'string' }, 'allow-remote': { type: 'boolean', default: false } },
});
const scratch = await mkdtemp(join(tmpdir(), 'userplug-transformers-example-'));
const model =
  values.model ?? (await buildTinyBertEncoder({ directory: join(scratch, 'tiny-bge') })).directory;
const encoder = await createTransformersEncoder({ model, allowRemoteModels: values['allow-remote'] });
const personalizer = createPersonalizer({ encoder });

try {
  console.log(`Encoder ${encoder.id}: ${encoder.dim} dimensions, reads ${encoder.maxInputTokens} tokens.`);
  const history = await readHistoryFile(new URL('./sample-history.jsonl', import.meta.url).pathname);
  const result = await personalizer.personalize({
    userId: 'sample-user',
    history,
    prompt: 'Suggest a weekend plan for me',
  });
  console.log(result.persona.text);
  console.log('Top attributions:', result.persona.attributions.slice(0, 3));
} finally {
  await personalizer.dispose();
  await encoder.dispose();
  await rm(scratch, { recursive: true, force: true });
}
