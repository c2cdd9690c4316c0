import {
  AbortError,
  InvalidArgumentError,
  type Persona,
  type Personalizer,
  type StreamPart,
} from '@userplug/core';
import { describe, expect, it, vi } from 'vitest';
import {
  createHostedModelAdapter,
  type HostedModel,
  type VendorAnswer,
  type VendorFinish,
  type VendorStreamPart,
} from './create-hosted-model-adapter.js';

const persona = {
  text: '<user_persona>likes trails</user_persona>',
  stableText: '<user_persona>',
  dynamicText: 'likes trails</user_persona>',
} as Persona;

interface FakeClient {
  maxRetries: number;
}

/** A vendor in memory: every step is a spy, the clock advances 100 ms each time it is read. */
function fakeVendor(overrides: Partial<HostedModel<FakeClient, { prompt: string }>> = {}) {
  let clock = 0;
  const steps: string[] = [];
  const dispose = vi.fn(async () => {});
  const model: HostedModel<FakeClient, { prompt: string }> = {
    identity: {
      provider: 'acme',
      vendor: 'Acme',
      apiKeyVariable: 'ACME_API_KEY',
      baseUrlVariable: 'ACME_BASE_URL',
      api: 'the Acme API',
    },
    modelId: 'acme-1',
    personalizer: { dispose } as unknown as Personalizer,
    ownsPersonalizer: true,
    price: { input: 1, output: 2 },
    connect: () => {
      steps.push('connect');
      return { maxRetries: 3 };
    },
    async fitPersona(_client, request) {
      steps.push(`fit ${request.userId}`);
      return {
        persona,
        personaTokens: 12,
        personaTokenizer: 'acme-tokens',
        budget: 300,
        warnings: [{ type: 'persona-truncated', message: 'cut' }],
      };
    },
    buildBody(request, _persona, warnings) {
      steps.push('body');
      warnings.push({ type: 'unsupported-setting', setting: 'topK', message: 'no topK' });
      return { prompt: request.prompt };
    },
    async generate(): Promise<VendorAnswer> {
      steps.push('generate');
      return {
        text: 'Go hiking.',
        toolCalls: [],
        rawFinishReason: 'done',
        usage: { inputTokens: 100, outputTokens: 10, cachedInputTokens: 0, cacheWriteTokens: undefined },
        responseId: 'resp-1',
        modelId: undefined,
        warnings: [{ type: 'refusal', message: 'partly refused' }],
      };
    },
    async *stream(): AsyncGenerator<VendorStreamPart, VendorFinish> {
      steps.push('stream');
      yield { type: 'text-delta', text: 'Go ' };
      yield { type: 'tool-call', toolCallId: 'c1', toolName: 'map', input: '{}' };
      yield { type: 'text-delta', text: 'hiking.' };
      return {
        rawFinishReason: 'done',
        usage: { inputTokens: 100, outputTokens: 3, cachedInputTokens: 0, cacheWriteTokens: undefined },
        responseId: 'resp-2',
        modelId: 'acme-1-snapshot',
        warnings: [],
      };
    },
    finishReason: (raw) => (raw === 'done' ? 'stop' : 'other'),
    normalizeError: (error, context) =>
      new Error(`normalized (${(error as Error).message}, ${context.maxRetries} retries)`),
    now: () => {
      clock += 100;
      return clock;
    },
    ...overrides,
  };
  return { model, steps, dispose };
}

describe('createHostedModelAdapter', () => {
  it('checks, connects, fits the persona, sends, and reports the answer with usage, cost and timings', async () => {
    const { model, steps, dispose } = fakeVendor();
    const adapter = createHostedModelAdapter(model);
    const result = await adapter.generate({ userId: 'ana', prompt: 'Weekend?' });
    expect(steps).toEqual(['connect', 'fit ana', 'body', 'generate']);
    expect(result).toEqual({
      text: 'Go hiking.',
      toolCalls: [],
      finishReason: 'stop',
      rawFinishReason: 'done',
      persona,
      usage: {
        personaTokens: 12,
        personaTokenizer: 'acme-tokens',
        budget: 300,
        inputTokens: 100,
        outputTokens: 10,
        totalTokens: 110,
        cachedInputTokens: 0,
        cacheWriteTokens: undefined,
        costUsd: (100 * 1 + 10 * 2) / 1e6,
      },
      // Clock reads: start 100, text 200, end 300.
      timings: { timeToFirstTokenMs: 100, durationMs: 200, outputTokensPerSecond: undefined },
      warnings: [
        { type: 'persona-truncated', message: 'cut' },
        { type: 'unsupported-setting', setting: 'topK', message: 'no topK' },
        { type: 'refusal', message: 'partly refused' },
      ],
      response: { id: 'resp-1', modelId: 'acme-1' },
    });
    await adapter.dispose();
    expect(dispose).toHaveBeenCalledTimes(1);
  });

  it('streams the persona, the parts as they come, then the finish with the collected answer', async () => {
    const { model, steps } = fakeVendor();
    const parts: StreamPart[] = [];
    for await (const part of createHostedModelAdapter(model).stream({ userId: 'ana', prompt: 'Weekend?' })) {
      // The vendor request is under way before the persona part is handed out.
      if (part.type === 'persona') expect(steps).toContain('stream');
      parts.push(part);
    }
    expect(parts.map((part) => part.type)).toEqual([
      'persona',
      'text-delta',
      'tool-call',
      'text-delta',
      'finish',
    ]);
    expect(parts[0]).toEqual({
      type: 'persona',
      persona,
      warnings: [
        { type: 'persona-truncated', message: 'cut' },
        { type: 'unsupported-setting', setting: 'topK', message: 'no topK' },
      ],
    });
    expect(parts.at(-1)).toMatchObject({
      type: 'finish',
      text: 'Go hiking.',
      toolCalls: [{ toolCallId: 'c1', toolName: 'map', input: '{}' }],
      response: { id: 'resp-2', modelId: 'acme-1-snapshot' },
      // Clock reads: start 100, first text 200, end 300; 3 tokens, 2 after the first in 0.1 s.
      timings: { timeToFirstTokenMs: 100, durationMs: 200, outputTokensPerSecond: 20 },
    });
  });

  it('refuses a malformed request or a missing key before any persona work', async () => {
    const { model, steps } = fakeVendor({
      connect: () => {
        throw new InvalidArgumentError('apiKey', 'Acme API key is missing.');
      },
    });
    const adapter = createHostedModelAdapter(model);
    await expect(adapter.generate({ userId: '', prompt: 'Hi' })).rejects.toThrow(
      'userId must be a non-empty string',
    );
    await expect(adapter.generate({ userId: 'ana', prompt: 'Hi' })).rejects.toThrow(
      'Acme API key is missing.',
    );
    expect(steps).toEqual([]);
  });

  it('normalises vendor errors with the retries the client had', async () => {
    const { model } = fakeVendor({
      generate: async () => {
        throw new Error('socket hang up');
      },
    });
    await expect(createHostedModelAdapter(model).generate({ userId: 'ana', prompt: 'Hi' })).rejects.toThrow(
      'normalized (socket hang up, 3 retries)',
    );
  });

  it('rejects an aborted call at once, even while the vendor does not answer, and aborts the vendor request', async () => {
    let vendorSignal: AbortSignal | undefined;
    const { model } = fakeVendor({
      generate: (_client, _body, signal) => {
        vendorSignal = signal;
        return new Promise<never>(() => {});
      },
    });
    const controller = new AbortController();
    const pending = createHostedModelAdapter(model).generate({
      userId: 'ana',
      prompt: 'Hi',
      signal: controller.signal,
    });
    await vi.waitFor(() => expect(vendorSignal).toBeDefined());
    expect(vendorSignal!.aborted).toBe(false);
    controller.abort(new Error('user left'));
    const error = await pending.catch((caught) => caught);
    expect(AbortError.isInstance(error)).toBe(true);
    expect(error.message).toBe('Generation for user "ana" with acme:acme-1 was aborted.');
    expect(error.reason).toEqual(new Error('user left'));
    expect(vendorSignal!.aborted).toBe(true);

    const already = new AbortController();
    already.abort();
    const { model: untouched, steps } = fakeVendor();
    await expect(
      createHostedModelAdapter(untouched).generate({ userId: 'ana', prompt: 'Hi', signal: already.signal }),
    ).rejects.toSatisfy(AbortError.isInstance);
    expect(steps).not.toContain('generate');
  });

  it('aborts the vendor request and closes its stream when the caller leaves the loop', async () => {
    let vendorSignal: AbortSignal | undefined;
    let closed = false;
    const { model } = fakeVendor({
      async *stream(_client, _body, signal) {
        vendorSignal = signal;
        try {
          yield { type: 'text-delta', text: 'one' };
          yield { type: 'text-delta', text: 'two' };
          throw new Error('never reached');
        } finally {
          closed = true;
        }
      },
    });
    for await (const part of createHostedModelAdapter(model).stream({ userId: 'ana', prompt: 'Hi' })) {
      if (part.type === 'text-delta') break;
    }
    expect(vendorSignal!.aborted).toBe(true);
    await vi.waitFor(() => expect(closed).toBe(true));
  });

  it('does not pass off a stream the vendor ended quietly after an abort as complete', async () => {
    const controller = new AbortController();
    const { model } = fakeVendor({
      async *stream() {
        yield { type: 'text-delta', text: 'cut ' };
        controller.abort();
        return {
          rawFinishReason: undefined,
          usage: undefined,
          responseId: undefined,
          modelId: undefined,
          warnings: [],
        };
      },
    });
    const types: string[] = [];
    const error = await (async () => {
      for await (const part of createHostedModelAdapter(model).stream({
        userId: 'ana',
        prompt: 'Hi',
        signal: controller.signal,
      })) {
        types.push(part.type);
      }
    })().catch((caught) => caught);
    expect(types).toEqual(['persona', 'text-delta']);
    expect(AbortError.isInstance(error)).toBe(true);
  });
});
