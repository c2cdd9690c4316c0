import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createHashingEncoder, createPersonalizer } from '@userplug/core';
import { createOnnxAdapter, loadOnnxDecoder, loadOnnxTokenCounter, type OnnxAdapter } from '@userplug/onnx';
import { buildTinyDecoder } from '@userplug/onnx/testing';

/** Settings of {@link benchOnnx}. Every field is optional. */
export interface OnnxBenchSettings {
  /** Timed prompts per configuration; medians are reported. Default 5. */
  runs?: number;
  /** Tokens generated per prompt. Default 32. */
  maxTokens?: number;
  /** onnxruntime threads. Default 1 (the bench machines are shared). */
  threads?: number;
  /** Sentences of system prompt: the length of the reusable prefix. Default 12 (about 1,000 tokens with the tiny tokenizer). */
  systemSentences?: number;
  /** Hidden size of the bench model. Default 256 (4 layers, 8 heads, 4 KV heads, MLP 768). */
  hiddenSize?: number;
  /** Called with progress lines. Default: nothing. */
  onProgress?: (line: string) => void;
}

/** Time to first token and decode speed of one configuration. */
export interface OnnxBenchTiming {
  /** Median time from the call to the first token, persona building included, milliseconds. */
  timeToFirstTokenMs: number;
  /** Median generated tokens per second after the first (adapter loop: sampling and decoding included). */
  tokensPerSecond: number;
  /** Median input positions computed (not reused) per prompt. */
  computedPromptTokens: number;
  /** Every run's time to first token, in run order. */
  runTimeToFirstTokenMs: number[];
}

/** What {@link benchOnnx} measured. */
export interface OnnxBenchResult {
  /** The tiny bench model: seeded random weights, Qwen2 architecture in miniature. */
  model: {
    hiddenSize: number;
    layers: number;
    heads: number;
    keyValueHeads: number;
    vocabSize: number;
    parameters: number;
  };
  /** Input positions of each prompt: the query-independent prefix and the whole input. */
  prefixTokens: number;
  promptTokens: number;
  /** Every prompt recomputes the persona prefix (prefixCacheSize 0). */
  withoutReuse: OnnxBenchTiming;
  /** The user's persona prefix is reused; only the new tokens are computed. */
  withReuse: OnnxBenchTiming;
  /** withoutReuse.timeToFirstTokenMs / withReuse.timeToFirstTokenMs (target ≥ 3). */
  timeToFirstTokenSpeedup: number;
  /** Plain decoding with the KV cache (one token per forward pass, no sampling), tokens per second, at the prompt's context length. */
  decodeTokensPerSecond: number;
  /** onnxruntime threads used. */
  threads: number;
}

const topics = [
  'trail running in the hills before sunrise',
  'cooking fresh pasta with tomatoes from the garden',
  'planning a trip to Japan for the cherry blossoms',
  'reading long historical novels on rainy evenings',
  'playing chess online with friends after work',
  'brewing coffee with a hand grinder every morning',
  'hiking in the mountains with the dog on weekends',
  'learning to play jazz guitar from old records',
];

function median(values: readonly number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function timePrompts(adapter: OnnxAdapter, runs: number, maxTokens: number): Promise<OnnxBenchTiming> {
  const ttft: number[] = [];
  const speed: number[] = [];
  const computed: number[] = [];
  for (let run = 0; run < runs; run++) {
    const result = await adapter.generate({
      userId: 'bench-user',
      prompt: `Question ${run}: what should I do this weekend, given ${topics[run % topics.length]}?`,
      maxOutputTokens: maxTokens,
    });
    ttft.push(result.timings.timeToFirstTokenMs ?? result.timings.durationMs);
    const tokensPerSecond = result.timings.outputTokensPerSecond;
    if (tokensPerSecond !== undefined && tokensPerSecond > 0) speed.push(tokensPerSecond);
    computed.push((result.usage.inputTokens ?? 0) - (result.usage.cachedInputTokens ?? 0));
  }
  return {
    timeToFirstTokenMs: median(ttft),
    tokensPerSecond: speed.length > 0 ? median(speed) : 0,
    computedPromptTokens: median(computed),
    runTimeToFirstTokenMs: ttft,
  };
}

/**
 * Time to first token and tokens per second of the ONNX adapter on a seeded tiny model, with and
 * without persona-prefix reuse. The model is small (about 3M parameters) but the prefix is long
 * (a system prompt of about 1,000 tokens, the stable persona and 2 profile soft tokens), so the
 * comparison measures what reuse saves: computing the prefix. On a real 0.5B model both numbers
 * grow; the ratio depends on prefix length versus prompt length, as here.
 */
export async function benchOnnx(settings: OnnxBenchSettings = {}): Promise<OnnxBenchResult> {
  const runs = settings.runs ?? 5;
  const maxTokens = settings.maxTokens ?? 32;
  const threads = settings.threads ?? 1;
  const hiddenSize = settings.hiddenSize ?? 256;
  const progress = settings.onProgress ?? (() => {});
  const root = await mkdtemp(join(tmpdir(), 'userplug-onnx-bench-'));
  const adapters: OnnxAdapter[] = [];
  try {
    const model = { hiddenSize, layers: 4, heads: 8, keyValueHeads: 4, intermediateSize: 768 };
    const tiny = await buildTinyDecoder({
      directory: join(root, 'model'),
      ...model,
      maxPositions: 2048,
      merges: 200,
    });
    const vocabSize = tiny.config.vocab_size;
    const headDim = hiddenSize / model.heads;
    const parameters =
      vocabSize * hiddenSize +
      model.layers *
        (2 * hiddenSize * hiddenSize +
          2 * hiddenSize * model.keyValueHeads * headDim +
          3 * hiddenSize * model.intermediateSize);
    const system = Array.from(
      { length: settings.systemSentences ?? 12 },
      (_, index) =>
        `Rule ${index + 1}: answer warmly and briefly, and keep in mind the user's interest in ${topics[index % topics.length]}.`,
    ).join(' ');
    const history = Array.from({ length: 24 }, (_, index) => ({
      id: String(index),
      text: `Spent the day ${topics[index % topics.length]}, and wrote notes about it (${index}).`,
      kind: index % 3 === 0 ? 'review' : 'post',
      ...(index % 3 === 0 ? { rating: 3 + (index % 3) } : {}),
    }));
    const tokenCounter = await loadOnnxTokenCounter({ modelDirectory: tiny.directory });
    const make = async (prefixCacheSize: number) => {
      const personalizer = createPersonalizer({ encoder: createHashingEncoder({ dim: 128 }), tokenCounter });
      await personalizer.ingest('bench-user', history);
      const adapter = createOnnxAdapter({
        modelDirectory: tiny.directory,
        cacheDirectory: join(root, 'cache'),
        threads,
        personalizer,
        system,
        personaText: 'stable',
        prefixCacheSize,
      });
      adapters.push(adapter);
      // Warm-up: loads the model and (with reuse) computes the user's prefix once.
      const warm = await adapter.generate({ userId: 'bench-user', prompt: 'Hello', maxOutputTokens: 2 });
      return { adapter, warm };
    };

    const recompute = await make(0);
    progress('without prefix reuse…');
    const withoutReuse = await timePrompts(recompute.adapter, runs, maxTokens);
    const reuse = await make(16);
    progress('with prefix reuse…');
    const withReuse = await timePrompts(reuse.adapter, runs, maxTokens);
    const promptTokens = reuse.warm.usage.inputTokens ?? 0;
    const prefixTokens =
      (await reuse.adapter.generate({ userId: 'bench-user', prompt: 'Hi', maxOutputTokens: 1 })).usage
        .cachedInputTokens ?? 0;

    progress('plain decoding…');
    const decoder = await loadOnnxDecoder({
      modelDirectory: tiny.directory,
      cacheDirectory: join(root, 'cache'),
      threads,
    });
    const context = decoder.tokenizer.encode(system).slice(0, promptTokens);
    let { cache } = await decoder.forward({
      embeddings: decoder.embeddings.lookup(context),
      logits: 'last',
      chunkSize: 256,
    });
    const steps = 64;
    const started = performance.now();
    for (let step = 0; step < steps; step++) {
      const id = context[step % context.length]!;
      ({ cache } = await decoder.forward({
        embeddings: decoder.embeddings.lookup([id]),
        cache,
        logits: 'last',
      }));
    }
    const decodeTokensPerSecond = steps / ((performance.now() - started) / 1000);
    await decoder.dispose();

    return {
      model: {
        hiddenSize,
        layers: model.layers,
        heads: model.heads,
        keyValueHeads: model.keyValueHeads,
        vocabSize,
        parameters,
      },
      prefixTokens,
      promptTokens,
      withoutReuse,
      withReuse,
      timeToFirstTokenSpeedup: withoutReuse.timeToFirstTokenMs / withReuse.timeToFirstTokenMs,
      decodeTokensPerSecond,
      threads,
    };
  } finally {
    for (const adapter of adapters) await adapter.dispose();
    await rm(root, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await benchOnnx({ onProgress: (line) => process.stderr.write(`${line}\n`) });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
