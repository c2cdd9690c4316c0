import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AbortError,
  createHashingEncoder,
  createPersonalizer,
  InvalidArgumentError,
  type Personalizer,
  ProviderError,
  type StreamPart,
} from '@userplug/core';
import { createSeededRandom } from '@userplug/core/internal';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { abortingEncoder, rejectionOf } from '../../../test/support/model-adapter-checks.js';
import { createOnnxAdapter, type OnnxAdapter, type OnnxAdapterSettings } from './create-onnx-adapter.js';
import { loadOnnxTokenCounter } from './load-onnx-token-counter.js';
import { writeProjectorFile } from './projector-file.js';
import { buildTinyDecoder, type TinyDecoder } from './testing/build-tiny-decoder.js';
import { randomValues } from './testing/onnx-graph-builder.js';

// The default personalizer's embedded encoder is replaced by the model-free one: the tests are about the adapter.
vi.mock('@userplug/encoder-use', async () => {
  const core = await import('@userplug/core');
  return { createUseEncoder: () => core.createHashingEncoder({ dim: 64 }) };
});

const history = [
  { id: '1', text: 'I love hiking in the mountains every weekend', kind: 'post' },
  { id: '2', text: 'Trail running shoes review: great grip on rocky trails', kind: 'review', rating: 5 },
  { id: '3', text: 'Cooked a fresh pasta with tomatoes and basil', kind: 'post' },
  { id: '4', text: 'Booked a trip to Japan for the cherry blossoms', kind: 'purchase' },
  { id: '5', text: 'Morning coffee, then a long hike up the ridge trail', kind: 'post' },
];

let root: string;
let tiny: TinyDecoder;
const adapters: OnnxAdapter[] = [];
const personalizers: Personalizer[] = [];

async function personalizer(): Promise<Personalizer> {
  const created = createPersonalizer({
    encoder: createHashingEncoder({ dim: 64 }),
    tokenCounter: await loadOnnxTokenCounter({ modelDirectory: tiny.directory }),
  });
  personalizers.push(created);
  return created;
}

async function adapter(settings: Partial<OnnxAdapterSettings> = {}): Promise<OnnxAdapter> {
  const created = createOnnxAdapter({
    modelDirectory: tiny.directory,
    cacheDirectory: join(root, 'cache'),
    threads: 1,
    personalizer: await personalizer(),
    system: 'You are a helpful assistant who answers in one short paragraph.',
    personaText: 'stable',
    ...settings,
  });
  adapters.push(created);
  return created;
}

async function collect(stream: AsyncIterable<StreamPart>): Promise<StreamPart[]> {
  const parts: StreamPart[] = [];
  for await (const part of stream) parts.push(part);
  return parts;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'userplug-onnx-adapter-'));
  tiny = await buildTinyDecoder({ directory: join(root, 'tiny') });
});

afterAll(async () => {
  for (const created of adapters) await created.dispose();
  for (const created of personalizers) await created.dispose();
  await rm(root, { recursive: true, force: true });
});

describe('createOnnxAdapter', () => {
  it('reuses the persona prefix for the next prompt of a user and continues exactly as recomputation does', async () => {
    const cached = await adapter();
    const fresh = await adapter({ prefixCacheSize: 0 });
    const first = await cached.generate({
      userId: 'ana',
      history,
      prompt: 'Suggest a weekend plan for me',
      maxOutputTokens: 12,
    });
    expect(first.usage.cachedInputTokens).toBe(0);
    expect(first.usage.softTokens).toBe(4);
    await fresh.generate({
      userId: 'ana',
      history,
      prompt: 'Suggest a weekend plan for me',
      maxOutputTokens: 1,
    });

    for (const request of [
      { prompt: 'What should I cook tonight?', maxOutputTokens: 12 },
      {
        prompt: 'Where should I travel next spring?',
        maxOutputTokens: 12,
        temperature: 0.9,
        topP: 0.95,
        seed: 7,
      },
    ]) {
      const reused = await cached.generate({ userId: 'ana', ...request });
      const recomputed = await fresh.generate({ userId: 'ana', ...request });
      expect(reused.usage.cachedInputTokens).toBeGreaterThan(20);
      expect(recomputed.usage.cachedInputTokens).toBe(0);
      expect(reused.usage.inputTokens).toBe(recomputed.usage.inputTokens);
      expect(reused.text).toBe(recomputed.text);
      expect(reused.usage.outputTokens).toBe(recomputed.usage.outputTokens);
    }
  });

  it('recomputes the prefix when the history changes, and forget erases the user and their cached prefix', async () => {
    const created = await adapter();
    await created.generate({ userId: 'ben', history, prompt: 'Plan my day', maxOutputTokens: 1 });
    expect(
      (await created.generate({ userId: 'ben', prompt: 'Plan my evening', maxOutputTokens: 1 })).usage
        .cachedInputTokens,
    ).toBeGreaterThan(0);
    const changed = await created.generate({
      userId: 'ben',
      history: [{ id: '9', text: 'Started learning chess openings with my team', kind: 'post' }],
      prompt: 'Plan my evening',
      maxOutputTokens: 1,
    });
    expect(changed.usage.cachedInputTokens).toBe(0);
    const report = await created.forget('ben');
    expect(report).toMatchObject({ userId: 'ben', itemsDeleted: history.length + 1, verified: true });
    expect(await created.personalizer.store.countItems('ben')).toBe(0);
    const after = await created.generate({
      userId: 'ben',
      history,
      prompt: 'Plan my evening',
      maxOutputTokens: 1,
    });
    expect(after.usage.cachedInputTokens).toBe(0);
  });

  it('samples reproducibly with a seed, and greedy decoding ignores the seed', async () => {
    const created = await adapter();
    const request = {
      userId: 'cy',
      history,
      prompt: 'Tell me something',
      maxOutputTokens: 10,
      temperature: 1.2,
    } as const;
    const first = await created.generate({ ...request, seed: 1 });
    const again = await created.generate({ ...request, seed: 1 });
    expect(again.text).toBe(first.text);
    const others = await Promise.all([2, 3, 4].map((seed) => created.generate({ ...request, seed })));
    expect(others.some((other) => other.text !== first.text)).toBe(true);
    const greedy = await created.generate({ ...request, temperature: 0, seed: 1 });
    const greedyAgain = await created.generate({ ...request, temperature: 0, seed: 99 });
    expect(greedyAgain.text).toBe(greedy.text);
    const nucleus = await created.generate({ ...request, topP: 1e-6, seed: 5 });
    expect(nucleus.text).toBe(greedy.text);
  });

  it('stops at max tokens and before stop sequences', async () => {
    const created = await adapter();
    const long = await created.generate({
      userId: 'dee',
      history,
      prompt: 'Write a long story',
      maxOutputTokens: 16,
    });
    expect(long.finishReason).toBe('length');
    expect(long.usage.outputTokens).toBe(16);
    const stop = long.text.slice(4, 6);
    const stopped = await created.generate({
      userId: 'dee',
      prompt: 'Write a long story',
      maxOutputTokens: 16,
      stop: [stop],
    });
    expect(stopped.finishReason).toBe('stop');
    expect(stopped.text).toBe(long.text.slice(0, long.text.indexOf(stop)));
    expect(stopped.text.includes(stop)).toBe(false);
  });

  it('streams the persona, text deltas that add up to the text, then the finish', async () => {
    const created = await adapter();
    const parts = await collect(
      created.stream({ userId: 'eve', history, prompt: 'Plan a trip', maxOutputTokens: 12, stop: ['zzz'] }),
    );
    expect(parts[0]!.type).toBe('persona');
    const finish = parts.at(-1)!;
    expect(finish.type).toBe('finish');
    const deltas = parts.filter((part) => part.type === 'text-delta').map((part) => part.text);
    expect(deltas.length).toBeGreaterThan(0);
    expect(finish.type === 'finish' && deltas.join('')).toBe(finish.type === 'finish' ? finish.text : '');
    const generated = await created.generate({
      userId: 'eve',
      prompt: 'Plan a trip',
      maxOutputTokens: 12,
      stop: ['zzz'],
    });
    expect(generated.text).toBe(finish.type === 'finish' ? finish.text : '');

    let seen = 0;
    for await (const part of created.stream({ userId: 'eve', prompt: 'Plan a trip', maxOutputTokens: 50 })) {
      if (part.type === 'text-delta') seen += 1;
      if (seen === 2) break;
    }
    // Breaking out released the model: the next call runs.
    expect(
      (await created.generate({ userId: 'eve', prompt: 'Again', maxOutputTokens: 2 })).usage.outputTokens,
    ).toBeGreaterThan(0);
  });

  it('rejects with an AbortError, keeping the reason, when the signal fires, and the next call runs', async () => {
    const created = await adapter();
    const controller = new AbortController();
    const parts = created.stream({
      userId: 'fay',
      history,
      prompt: 'Go on',
      maxOutputTokens: 40,
      signal: controller.signal,
    });
    let deltas = 0;
    const error = await (async () => {
      for await (const part of parts) {
        if (part.type === 'text-delta') {
          deltas++;
          controller.abort(new Error('user left'));
        }
      }
    })().catch((caught) => caught);
    expect(deltas).toBe(1);
    expect(error.name).toMatch(/AbortError$/);
    expect(AbortError.isInstance(error) && (error.reason as Error).message).toBe('user left');
    expect(
      (await created.generate({ userId: 'fay', prompt: 'Again', maxOutputTokens: 2 })).usage.outputTokens,
    ).toBe(2);
  });

  it('stores nothing of the history batch of a call aborted while ingesting', async () => {
    const controller = new AbortController();
    const own = createPersonalizer({
      encoder: abortingEncoder(controller),
      tokenCounter: await loadOnnxTokenCounter({ modelDirectory: tiny.directory }),
    });
    personalizers.push(own);
    const created = await adapter({ personalizer: own });
    const error = await rejectionOf(
      created.generate({ userId: 'fay', history, prompt: 'Go on', signal: controller.signal }),
    );
    expect(error.name).toBe('UserplugAbortError');
    expect(await own.store.countItems('fay')).toBe(0);
  });

  it('works without history (an empty persona) and with soft tokens turned off', async () => {
    const created = await adapter({ softTokens: { profile: 0, query: 0 } });
    const empty = await created.generate({ userId: 'gus', prompt: 'Hello', maxOutputTokens: 4 });
    expect(empty.usage.softTokens).toBe(0);
    expect(empty.warnings.map((warning) => warning.type)).toContain('empty-history');
    const defaults = await adapter({ personaText: 'none', system: undefined as unknown as string });
    const none = await defaults.generate({ userId: 'gus', prompt: 'Hello', maxOutputTokens: 4 });
    expect(none.usage.softTokens).toBe(0);
    expect(none.usage.outputTokens).toBeGreaterThan(0);
  });

  it('loads a trained projector file and handles a zero persona vector', async () => {
    const random = createSeededRandom(3).next;
    const hidden = tiny.config.hidden_size;
    const path = join(root, 'projector.json');
    await writeProjectorFile(path, {
      encoder: { id: 'hashing-64', dim: 64 },
      llm: { hiddenSize: hidden, model: 'tiny' },
      activation: 'gelu',
      personaTokens: 2,
      profileTokens: 'user-vector',
      w1: randomValues(random, 16 * 64, 0.5),
      b1: randomValues(random, 16, 0.1),
      w2: randomValues(random, 2 * hidden * 16, 0.5),
      b2: randomValues(random, 2 * hidden, 0.1),
      instruction: randomValues(random, hidden, 1),
    });
    const created = await adapter({ projector: path });
    const withHistory = await created.generate({
      userId: 'hal',
      history,
      prompt: 'Any plans?',
      maxOutputTokens: 4,
    });
    expect(withHistory.usage.softTokens).toBe(2 + 3);
    const zero = await created.generate({ userId: 'ivy', prompt: 'Any plans?', maxOutputTokens: 4 });
    expect(zero.persona.vector.every((value) => value === 0)).toBe(true);
    expect(zero.usage.outputTokens).toBeGreaterThan(0);

    const wrongSize = join(root, 'wrong.json');
    await writeProjectorFile(wrongSize, {
      encoder: { id: 'hashing-64', dim: 64 },
      llm: { hiddenSize: hidden * 2 },
      activation: 'gelu',
      personaTokens: 1,
      profileTokens: 'none',
      w1: new Float32Array(4 * 64),
      b1: new Float32Array(4),
      w2: new Float32Array(hidden * 2 * 4),
      b2: new Float32Array(hidden * 2),
      instruction: new Float32Array(0),
    });
    const mismatched = await adapter({ projector: wrongSize });
    await expect(mismatched.generate({ userId: 'hal', prompt: 'Hi', maxOutputTokens: 1 })).rejects.toThrow(
      /hidden size is 32/,
    );
  });

  it('validates requests and refuses work after dispose', async () => {
    const created = await adapter();
    await expect(created.generate({ userId: '', prompt: 'Hi' })).rejects.toSatisfy(
      InvalidArgumentError.isInstance,
    );
    await expect(created.generate({ userId: 'jo', prompt: 'Hi', maxOutputTokens: 0 })).rejects.toThrow(
      /maxOutputTokens/,
    );
    await expect(created.generate({ userId: 'jo', prompt: 'Hi', topP: 0 })).rejects.toThrow(/topP/);
    await expect(created.generate({ userId: 'jo', prompt: 'Hi', stop: [''] })).rejects.toThrow(/stop/);
    expect(() => createOnnxAdapter({ modelDirectory: tiny.directory, prefixCacheSize: -1 })).toThrow(
      /prefixCacheSize/,
    );
    const negative = await adapter({ softTokens: { query: -1 } });
    await expect(negative.generate({ userId: 'jo', prompt: 'Hi' })).rejects.toThrow(/softTokens\.query/);
    await created.generate({ userId: 'jo', history, prompt: 'Hi', maxOutputTokens: 1 });
    await created.dispose();
    await created.dispose();
    await expect(created.generate({ userId: 'jo', prompt: 'Hi', maxOutputTokens: 1 })).rejects.toSatisfy(
      ProviderError.isInstance,
    );
  });

  it('caps maxTokens at the model context and refuses prompts longer than it', async () => {
    const created = await adapter();
    const capped = await created.generate({ userId: 'kai', history, prompt: 'Hi', maxOutputTokens: 5_000 });
    expect(capped.warnings.map((warning) => warning.type)).toContain('max-tokens-capped');
    expect(capped.usage.totalTokens).toBeLessThanOrEqual(tiny.config.max_position_embeddings);
    await expect(created.generate({ userId: 'kai', prompt: 'word '.repeat(600) })).rejects.toThrow(
      /reads at most 512/,
    );
  });

  it('answers in the vocabulary of every adapter: usage, timings, finish and response', async () => {
    const created = await adapter();
    expect(created).toMatchObject({ provider: 'onnx', modelId: 'tiny' });
    const first = await created.generate({
      userId: 'lee',
      history,
      prompt: 'Plan a trip',
      maxOutputTokens: 6,
    });
    const second = await created.generate({ userId: 'lee', prompt: 'Plan a walk', maxOutputTokens: 6 });
    const prefix = second.usage.cachedInputTokens!;
    expect(prefix).toBeGreaterThan(20);
    expect(first).toMatchObject({
      toolCalls: [],
      finishReason: 'length',
      rawFinishReason: 'max-output-tokens',
      response: { id: undefined, modelId: 'tiny' },
    });
    // The first call computed the prefix and kept it (written to the cache); the second read it back.
    expect(first.usage).toMatchObject({
      cachedInputTokens: 0,
      cacheWriteTokens: prefix,
      softTokens: 4,
      costUsd: 0,
    });
    expect(second.usage).toMatchObject({ cachedInputTokens: prefix, cacheWriteTokens: 0, outputTokens: 6 });
    expect(first.usage.totalTokens).toBe(first.usage.inputTokens! + 6);
    expect(first.usage.personaTokenizer).toBe('onnx:tiny');
    const tokenizer = (await created.getDecoder()).tokenizer;
    expect(first.usage.personaTokens).toBe(tokenizer.tokenCounter.count(first.persona.text));
    // Generated token by token, so a generation speed is measured.
    expect(first.timings.outputTokensPerSecond).toBeGreaterThan(0);
  });

  it('takes earlier turns and a per-call budget, and warns about what a local model cannot do', async () => {
    const created = await adapter({ personaText: 'full' });
    const request = { userId: 'max', prompt: 'And tomorrow?', budget: 150, maxOutputTokens: 2 };
    const plain = await created.generate({ ...request, history });
    const withTurns = await created.generate({
      ...request,
      messages: [
        { role: 'user', content: 'Any plans for today?' },
        { role: 'assistant', content: 'A walk by the river.' },
      ],
      topK: 5,
      tools: [{ name: 'weather', inputSchema: { type: 'object' } }],
      responseFormat: { type: 'json' },
    });
    const tokenizer = (await created.getDecoder()).tokenizer;
    const turnTokens =
      tokenizer.encode('Any plans for today?').length + tokenizer.encode('A walk by the river.').length;
    expect(withTurns.persona.text).toBe(plain.persona.text);
    expect(withTurns.usage.inputTokens! - plain.usage.inputTokens!).toBeGreaterThanOrEqual(turnTokens);
    // Earlier turns come after the cached prefix: a chat keeps reusing it.
    expect(withTurns.usage.cachedInputTokens).toBe(plain.usage.cacheWriteTokens);
    expect(withTurns.usage.cachedInputTokens).toBeGreaterThan(0);
    expect(plain.usage).toMatchObject({ budget: 150 });
    expect(plain.usage.personaTokens).toBeLessThanOrEqual(150);
    const { budget: _perCall, ...withoutBudget } = request;
    const unbudgeted = await created.generate(withoutBudget);
    expect(unbudgeted.usage.personaTokens).toBeGreaterThan(150);
    const none = await created.generate({ ...request, budget: 0 });
    expect(none.usage).toMatchObject({ budget: 0, personaTokens: 0 });
    expect(
      withTurns.warnings.flatMap((warning) =>
        warning.type === 'unsupported-setting' ? [warning.setting] : [],
      ),
    ).toEqual(['topK', 'tools', 'responseFormat']);
  });

  it('has its personalizer before the model loads, counting with the model tokenizer once it does', async () => {
    // Nothing is read at creation: a missing model directory fails the first call, not the factory.
    const missing = createOnnxAdapter({ modelDirectory: join(root, 'no-such-model') });
    expect(await missing.personalizer.store.countItems('nia')).toBe(0);
    await expect(missing.generate({ userId: 'nia', prompt: 'Hi' })).rejects.toThrow(/no-such-model/);
    await missing.dispose();

    const created = createOnnxAdapter({
      modelDirectory: tiny.directory,
      cacheDirectory: join(root, 'cache'),
      threads: 1,
      budget: 150,
    });
    adapters.push(created);
    // Used straight away, before any generation: the model loads for its tokenizer.
    const ingested = await created.personalizer.ingest('nia', history);
    expect(ingested.inserted).toBe(history.length);
    const result = await created.personalizer.personalize({ userId: 'nia', prompt: 'Plan a trip' });
    expect(result.usage).toMatchObject({ tokenizer: 'onnx:tiny', budget: 150 });
  });
});
