import type { LanguageModelV4GenerateResult, LanguageModelV4StreamPart } from '@ai-sdk/provider';
import {
  createHashingEncoder,
  createPersonalizer,
  type HistoryItemInput,
  type PersonalizeResult,
  type Personalizer,
} from '@userplug/core';
import { generateText, jsonSchema, stepCountIs, streamText, tool, wrapLanguageModel } from 'ai';
import { convertArrayToReadableStream, MockLanguageModelV4 } from 'ai/test';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { toAiSdkWarning, userplugMiddleware } from './userplug-middleware.js';

// The AI SDK logs warnings to the console by default; the tests read them from the results.
(globalThis as { AI_SDK_LOG_WARNINGS?: boolean }).AI_SDK_LOG_WARNINGS = false;

const history: HistoryItemInput[] = [
  { id: 'h1', kind: 'post', text: 'Hiked the ridge trail with my dog at sunrise', timestamp: '2024-05-01' },
  {
    id: 'h2',
    kind: 'review',
    text: 'Great vegetarian ramen, rich miso broth',
    rating: 5,
    timestamp: '2024-05-03',
  },
  { id: 'h3', kind: 'purchase', text: 'Trail running shoes with a wide toe box', timestamp: '2024-05-04' },
  { id: 'h4', kind: 'review', text: 'Noisy hotel, thin walls, would not stay again', rating: 1 },
  { id: 'h5', kind: 'message', text: 'Looking for dog-friendly cabins near snowshoe trails this winter' },
];

const usage = {
  inputTokens: { total: 10, noCache: 10, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 5, text: 5, reasoning: undefined },
};

function answer(text: string): LanguageModelV4GenerateResult {
  return {
    content: [{ type: 'text', text }],
    finishReason: { unified: 'stop', raw: 'stop' },
    usage,
    warnings: [],
  };
}

let personalizer: Personalizer;

beforeAll(async () => {
  personalizer = createPersonalizer({ encoder: createHashingEncoder(), budget: 250 });
  await personalizer.ingest('ana', history);
});

function systemTexts(prompt: ReadonlyArray<{ role: string; content: unknown }>): string[] {
  return prompt.filter((message) => message.role === 'system').map((message) => message.content as string);
}

describe('userplugMiddleware', () => {
  it('adds the stable and the query-dependent persona after your system message, before the user turn', async () => {
    const mock = new MockLanguageModelV4({ doGenerate: answer('Take the ridge trail.') });
    let seen: PersonalizeResult | undefined;
    const model = wrapLanguageModel({
      model: mock,
      middleware: userplugMiddleware({
        personalizer,
        userId: 'ana',
        onPersona: (result) => {
          seen = result;
        },
      }),
    });
    const result = await generateText({
      model,
      system: 'Be brief.',
      prompt: 'Suggest a weekend hike with my dog',
    });

    expect(result.text).toBe('Take the ridge trail.');
    const persona = seen!.persona;
    expect(persona.text).toContain('<user_persona>');
    expect(mock.doGenerateCalls[0]!.prompt).toEqual([
      { role: 'system', content: 'Be brief.' },
      {
        role: 'system',
        content: persona.stableText,
        providerOptions: { anthropic: { cacheControl: { type: 'ephemeral' } } },
      },
      { role: 'system', content: persona.dynamicText },
      { role: 'user', content: [{ type: 'text', text: 'Suggest a weekend hike with my dog' }] },
    ]);
    expect(result.warnings).toEqual([]);
  });

  it('personalizes a multi-turn chat on its last user message', async () => {
    const mock = new MockLanguageModelV4({ doGenerate: answer('ok') });
    const spy = vi.spyOn(personalizer, 'personalize');
    try {
      const model = wrapLanguageModel({
        model: mock,
        middleware: userplugMiddleware({ personalizer, userId: 'ana', cacheControl: false, budget: 200 }),
      });
      await generateText({
        model,
        messages: [
          { role: 'user', content: 'Hi!' },
          { role: 'assistant', content: 'Hello, how can I help?' },
          { role: 'user', content: 'Where should I eat tonight?' },
        ],
      });
      expect(spy).toHaveBeenCalledTimes(1);
      expect(spy.mock.calls[0]![0]).toEqual({
        userId: 'ana',
        prompt: 'Where should I eat tonight?',
        budget: 200,
      });
      const prompt = mock.doGenerateCalls[0]!.prompt;
      expect(prompt.map((message) => message.role)).toEqual([
        'system',
        'system',
        'user',
        'assistant',
        'user',
      ]);
      expect(prompt[0]).not.toHaveProperty('providerOptions');
    } finally {
      spy.mockRestore();
    }
  });

  it('never computes a persona on tool-loop steps, and re-sends the turn persona unchanged', async () => {
    const mock = new MockLanguageModelV4({
      doGenerate: [
        {
          content: [
            { type: 'tool-call', toolCallId: 'call-1', toolName: 'weather', input: '{"city":"Denver"}' },
          ],
          finishReason: { unified: 'tool-calls', raw: 'tool_use' },
          usage,
          warnings: [],
        },
        answer('Sunny: go hiking.'),
      ],
    });
    const spy = vi.spyOn(personalizer, 'personalize');
    try {
      const weather = tool({
        description: 'Weather for a city',
        inputSchema: jsonSchema<{ city: string }>({
          type: 'object',
          properties: { city: { type: 'string' } },
          required: ['city'],
        }),
        execute: async ({ city }) => `Sunny in ${city}`,
      });
      const model = wrapLanguageModel({
        model: mock,
        middleware: userplugMiddleware({ personalizer, userId: 'ana' }),
      });
      const result = await generateText({
        model,
        prompt: 'Weekend hike near Denver?',
        tools: { weather },
        stopWhen: stepCountIs(3),
      });
      expect(result.text).toBe('Sunny: go hiking.');
      expect(spy).toHaveBeenCalledTimes(1);
      const [firstStep, toolStep] = mock.doGenerateCalls;
      expect(toolStep!.prompt.at(-1)!.role).toBe('tool');
      expect(systemTexts(toolStep!.prompt)).toEqual(systemTexts(firstStep!.prompt));
      expect(systemTexts(firstStep!.prompt)).toHaveLength(2);
    } finally {
      spy.mockRestore();
    }

    const skipping = new MockLanguageModelV4({
      doGenerate: [
        {
          content: [
            { type: 'tool-call', toolCallId: 'call-2', toolName: 'weather', input: '{"city":"Boise"}' },
          ],
          finishReason: { unified: 'tool-calls', raw: 'tool_use' },
          usage,
          warnings: [],
        },
        answer('Rainy.'),
      ],
    });
    await generateText({
      model: wrapLanguageModel({
        model: skipping,
        middleware: userplugMiddleware({ personalizer, userId: 'ana', toolSteps: 'none' }),
      }),
      prompt: 'Weekend hike near Boise?',
      tools: {
        weather: tool({
          inputSchema: jsonSchema<{ city: string }>({
            type: 'object',
            properties: { city: { type: 'string' } },
          }),
          execute: async () => 'Rainy',
        }),
      },
      stopWhen: stepCountIs(3),
    });
    expect(systemTexts(skipping.doGenerateCalls[0]!.prompt)).toHaveLength(2);
    expect(systemTexts(skipping.doGenerateCalls[1]!.prompt)).toHaveLength(0);
  });

  it('goes on without a persona, with a warning, when the persona cannot be computed', async () => {
    const failing: Personalizer = {
      ...personalizer,
      personalize: async () => {
        throw new Error('encoder failed to load');
      },
    };
    const mock = new MockLanguageModelV4({ doGenerate: answer('Plain answer.') });
    const model = wrapLanguageModel({
      model: mock,
      middleware: userplugMiddleware({ personalizer: failing, userId: 'ana' }),
    });
    const result = await generateText({ model, system: 'Be brief.', prompt: 'Hello' });
    expect(result.text).toBe('Plain answer.');
    expect(mock.doGenerateCalls[0]!.prompt).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: [{ type: 'text', text: 'Hello' }] },
    ]);
    expect(result.warnings).toEqual([
      {
        type: 'other',
        message:
          'userplug persona-unavailable: no persona for user "ana" on this turn, the call went on without one: encoder failed to load',
      },
    ]);
  });

  it('streams with the persona injected, and carries warnings on stream-start', async () => {
    const parts: LanguageModelV4StreamPart[] = [
      { type: 'stream-start', warnings: [] },
      { type: 'text-start', id: 't1' },
      { type: 'text-delta', id: 't1', delta: 'Hello ' },
      { type: 'text-delta', id: 't1', delta: 'there' },
      { type: 'text-end', id: 't1' },
      { type: 'finish', finishReason: { unified: 'stop', raw: 'stop' }, usage },
    ];
    const mock = new MockLanguageModelV4({ doStream: { stream: convertArrayToReadableStream(parts) } });
    const model = wrapLanguageModel({
      model: mock,
      middleware: userplugMiddleware({ personalizer, userId: 'ana' }),
    });
    const result = streamText({ model, prompt: 'Any dinner ideas?' });
    expect(await result.text).toBe('Hello there');
    expect(systemTexts(mock.doStreamCalls[0]!.prompt)).toHaveLength(2);

    const newcomer = new MockLanguageModelV4({ doStream: { stream: convertArrayToReadableStream(parts) } });
    const empty = streamText({
      model: wrapLanguageModel({
        model: newcomer,
        middleware: userplugMiddleware({ personalizer, userId: 'nobody' }),
      }),
      prompt: 'Any dinner ideas?',
    });
    expect(await empty.text).toBe('Hello there');
    expect(systemTexts(newcomer.doStreamCalls[0]!.prompt)).toEqual([]);
    const warnings = await empty.warnings;
    expect(warnings).toHaveLength(1);
    expect(warnings![0]).toMatchObject({ type: 'other' });
    expect((warnings![0] as { message: string }).message).toContain('userplug empty-history: User "nobody"');
  });

  it('rejects a missing personalizer or an empty user id with the fix', () => {
    expect(() =>
      userplugMiddleware({ personalizer: undefined as unknown as Personalizer, userId: 'ana' }),
    ).toThrow('Pass `personalizer: createPersonalizer()`');
    expect(() => userplugMiddleware({ personalizer, userId: '' })).toThrow(
      'to name the user per call with `providerOptions.userplug.userId`',
    );
  });

  it('serves every user from one wrapped model, taking the user (and budget) from each call', async () => {
    await personalizer.ingest('bo', [
      { id: 'b1', kind: 'post', text: 'Restoring an old sailboat on the lake every weekend' },
      { id: 'b2', kind: 'review', text: 'Sturdy marine varnish, easy to apply', rating: 5 },
    ]);
    const mock = new MockLanguageModelV4({ doGenerate: answer('ok') });
    const spy = vi.spyOn(personalizer, 'personalize');
    try {
      const model = wrapLanguageModel({ model: mock, middleware: userplugMiddleware({ personalizer }) });
      for (const [userId, budget] of [
        ['ana', 220],
        ['bo', 180],
      ] as const) {
        await generateText({
          model,
          prompt: 'Plans for Saturday?',
          providerOptions: { userplug: { userId, budget }, openai: { user: 'kept' } },
        });
      }
      expect(spy.mock.calls.map(([request]) => [request.userId, request.budget])).toEqual([
        ['ana', 220],
        ['bo', 180],
      ]);
      const [anaCall, boCall] = mock.doGenerateCalls;
      expect(systemTexts(anaCall!.prompt).join('')).not.toContain('sailboat');
      expect(systemTexts(boCall!.prompt).join('')).toContain('sailboat');
      // The model sees its own options, not userplug's.
      expect(anaCall!.providerOptions).toEqual({ openai: { user: 'kept' } });

      const anonymous = await generateText({ model, prompt: 'Plans for Saturday?' });
      expect(systemTexts(mock.doGenerateCalls[2]!.prompt)).toEqual([]);
      expect(anonymous.warnings).toEqual([
        {
          type: 'other',
          message:
            'userplug persona-unavailable: the call named no user, so no persona was added. Pass `providerOptions: { userplug: { userId } }` or the `userId` setting.',
        },
      ]);
    } finally {
      spy.mockRestore();
    }
  });

  it("reuses on a tool step the persona of that user's turn, never another user's", async () => {
    await personalizer.ingest('cy', [
      { id: 'c1', kind: 'post', text: 'Collecting vintage typewriters and fountain pens' },
    ]);
    const step: LanguageModelV4GenerateResult = {
      content: [{ type: 'tool-call', toolCallId: 'call-1', toolName: 'weather', input: '{"city":"Oslo"}' }],
      finishReason: { unified: 'tool-calls', raw: 'tool_use' },
      usage,
      warnings: [],
    };
    const mock = new MockLanguageModelV4({ doGenerate: [step, step, answer('A'), answer('B')] });
    const model = wrapLanguageModel({ model: mock, middleware: userplugMiddleware({ personalizer }) });
    // Both users ask the same words at once; their tool steps run only after both turns were personalized.
    let started = 0;
    let bothStarted!: () => void;
    const barrier = new Promise<void>((resolve) => {
      bothStarted = resolve;
    });
    const run = (userId: string) =>
      generateText({
        model,
        prompt: 'What should I do in Oslo?',
        stopWhen: stepCountIs(3),
        providerOptions: { userplug: { userId } },
        tools: {
          weather: tool({
            inputSchema: jsonSchema<{ city: string }>({
              type: 'object',
              properties: { city: { type: 'string' } },
            }),
            execute: async () => {
              if (++started === 2) bothStarted();
              await barrier;
              return `Cold, for ${userId}`;
            },
          }),
        },
      });
    await Promise.all([run('ana'), run('cy')]);
    const toolStepOf = (userId: string) =>
      mock.doGenerateCalls.find((call) => JSON.stringify(call.prompt).includes(`Cold, for ${userId}`))!;
    const [firstTurn, secondTurn] = mock.doGenerateCalls.slice(0, 2).map((call) => systemTexts(call.prompt));
    const cyTurn = [firstTurn, secondTurn].find((texts) => texts!.join('').includes('typewriters'))!;
    const anaTurn = [firstTurn, secondTurn].find((texts) => texts !== cyTurn)!;
    expect(anaTurn.join('')).not.toContain('typewriters');
    expect(systemTexts(toolStepOf('ana').prompt)).toEqual(anaTurn);
    expect(systemTexts(toolStepOf('cy').prompt)).toEqual(cyTurn);
  });

  it('forwards the abort signal into personalize and rejects without calling the model', async () => {
    const mock = new MockLanguageModelV4({ doGenerate: answer('never') });
    const controller = new AbortController();
    const seen: Array<AbortSignal | undefined> = [];
    const slow: Personalizer = {
      ...personalizer,
      personalize: async (request) => {
        seen.push(request.signal);
        controller.abort();
        return personalizer.personalize(request);
      },
    };
    const model = wrapLanguageModel({
      model: mock,
      middleware: userplugMiddleware({ personalizer: slow, userId: 'ana' }),
    });
    const error = await generateText({
      model,
      prompt: 'Hello',
      abortSignal: controller.signal,
      maxRetries: 0,
    }).catch((caught) => caught);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.aborted).toBe(true);
    expect(error.name).toMatch(/AbortError$/);
    expect(mock.doGenerateCalls).toHaveLength(0);
  });

  it('maps typed warnings to the AI SDK kinds', () => {
    expect(toAiSdkWarning({ type: 'unsupported-setting', setting: 'topK', message: 'no topK' })).toEqual({
      type: 'unsupported',
      feature: 'topK',
      details: 'userplug: no topK',
    });
    expect(toAiSdkWarning({ type: 'compatibility', feature: 'count-tokens', message: 'estimated' })).toEqual({
      type: 'compatibility',
      feature: 'count-tokens',
      details: 'userplug: estimated',
    });
    expect(toAiSdkWarning({ type: 'persona-truncated', message: 'cut' })).toEqual({
      type: 'other',
      message: 'userplug persona-truncated: cut',
    });
  });
});
