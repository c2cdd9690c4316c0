import type { ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import {
  AbortError,
  AuthenticationError,
  BadRequestError,
  ConnectionError,
  createHashingEncoder,
  createPersonalizer,
  createTiktokenCounter,
  type Encoder,
  type GenerateRequest,
  type HistoryItemInput,
  InvalidArgumentError,
  NotFoundError,
  OverloadedError,
  PermissionDeniedError,
  type Persona,
  RateLimitError,
  readHistoryFile,
  type TokenCounter,
} from '@userplug/core';
import OpenAI from 'openai';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  abortingEncoder,
  abortOnceSent,
  collectStream,
  expectFailure,
  rejectionOf,
  streamUntilFailure,
  withoutEnvironmentVariable,
} from '../../../test/support/model-adapter-checks.js';
import { holdEvents, sendEvents, sendJson } from '../../../test/support/send-wire-response.js';
import {
  closeRecordingServers,
  type RecordedRequest,
  startRecordingServer,
} from '../../../test/support/start-recording-server.js';
import { createOpenAIAdapter } from './create-openai-adapter.js';
import { openAIFinishReason } from './openai-chat-completions.js';

// The default personalizer's embedded encoder is replaced by the model-free one: the tests are about the adapter.
vi.mock('@userplug/encoder-use', async () => {
  const core = await import('@userplug/core');
  return { createUseEncoder: () => core.createHashingEncoder() };
});

type Handler = (request: RecordedRequest, response: ServerResponse, index: number) => void;

/** A real HTTP server on 127.0.0.1 that records each request and answers with `handler`. */
async function startServer(handler: Handler) {
  const server = await startRecordingServer((request, response, requests) =>
    handler(request, response, requests.length - 1),
  );
  return { baseURL: `${server.origin}/v1`, requests: server.requests, close: server.close };
}

afterEach(closeRecordingServers);

function answerJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  sendJson(response, status, body, { 'x-request-id': 'req_fake_1', ...headers });
}

function completion(
  message: Record<string, unknown>,
  options: { finish?: string; usage?: { prompt: number; completion: number; cached: number } } = {},
) {
  const usage = options.usage ?? { prompt: 120, completion: 9, cached: 64 };
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1,
    model: 'gpt-4o-mini-2024-07-18',
    choices: [
      { index: 0, message: { role: 'assistant', ...message }, finish_reason: options.finish ?? 'stop' },
    ],
    usage: {
      prompt_tokens: usage.prompt,
      completion_tokens: usage.completion,
      total_tokens: usage.prompt + usage.completion,
      prompt_tokens_details: { cached_tokens: usage.cached },
    },
  };
}

const text = (content: string) => completion({ content });

function chunk(delta: Record<string, unknown>, finishReason: string | null = null) {
  return `data: ${JSON.stringify({
    id: 'chatcmpl-2',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'gpt-4o-mini-2024-07-18',
    choices: [{ index: 0, delta, finish_reason: finishReason }],
  })}\n\n`;
}

const usageChunk = (prompt: number, completionTokens: number, cached: number) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-2', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini', choices: [], usage: { prompt_tokens: prompt, completion_tokens: completionTokens, total_tokens: prompt + completionTokens, prompt_tokens_details: { cached_tokens: cached } } })}\n\n`;

let history: HistoryItemInput[];
let o200k: TokenCounter;

beforeAll(async () => {
  const items: HistoryItemInput[] = [];
  for await (const item of await readHistoryFile(
    fileURLToPath(new URL('../../../examples/sample-history.jsonl', import.meta.url)),
  )) {
    items.push(item);
  }
  history = items;
  o200k = await createTiktokenCounter({ encoding: 'o200k_base' });
});

function testPersonalizer(
  settings: { budget?: number; tokenCounter?: TokenCounter; encoder?: Encoder } = {},
) {
  return createPersonalizer({
    encoder: settings.encoder ?? createHashingEncoder(),
    tokenCounter: settings.tokenCounter ?? 'o200k_base',
    ...(settings.budget === undefined ? {} : { budget: settings.budget }),
  });
}

function adapterFor(baseURL: string, settings: Partial<Parameters<typeof createOpenAIAdapter>[0]> = {}) {
  return createOpenAIAdapter({
    apiKey: 'sk-test',
    baseURL,
    model: 'gpt-4o-mini',
    personalizer: testPersonalizer(),
    ...settings,
  });
}

function messagesOf(request: RecordedRequest) {
  return request.body.messages as Array<{ role: string; content: string }>;
}

describe('createOpenAIAdapter', () => {
  it('sends the persona as a system message before the prompt, under the budget by the real tokenizer', async () => {
    const server = await startServer((_request, response) => answerJson(response, 200, text('Go hiking.')));
    const adapter = adapterFor(server.baseURL, { budget: 200 });
    const result = await adapter.generate({
      userId: 'ana',
      history,
      prompt: 'Suggest a weekend plan for me',
    });

    expect(adapter).toMatchObject({ provider: 'openai', modelId: 'gpt-4o-mini' });
    expect(server.requests).toHaveLength(1);
    const request = server.requests[0]!;
    expect(request.path).toBe('/v1/chat/completions');
    expect(request.headers.authorization).toBe('Bearer sk-test');
    expect(request.body).toEqual({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: result.persona.text },
        { role: 'user', content: 'Suggest a weekend plan for me' },
      ],
    });
    expect(result.persona.text.startsWith(result.persona.stableText)).toBe(true);
    expect(result.persona.text).toContain('<user_persona>');
    expect(result.persona.evidence.length).toBeGreaterThan(0);
    expect(o200k.count(result.persona.text)).toBeLessThanOrEqual(200);
    expect(result).toMatchObject({
      text: 'Go hiking.',
      toolCalls: [],
      finishReason: 'stop',
      rawFinishReason: 'stop',
      response: { id: 'chatcmpl-1', modelId: 'gpt-4o-mini-2024-07-18' },
      warnings: [],
    });
    expect(result.usage).toEqual({
      personaTokens: o200k.count(result.persona.text),
      personaTokenizer: 'o200k_base',
      budget: 200,
      inputTokens: 120,
      outputTokens: 9,
      totalTokens: 129,
      cachedInputTokens: 64,
      cacheWriteTokens: undefined,
      // gpt-4o-mini: 56 uncached × $0.15 + 64 cached × $0.075 + 9 output × $0.60, per million.
      costUsd: (56 * 0.15 + 64 * 0.075 + 9 * 0.6) / 1_000_000,
    });
    // A non-streamed answer has no generation speed to measure.
    expect(result.timings.outputTokensPerSecond).toBeUndefined();
  });

  it('keeps the per-user system prefix byte-identical across prompts', async () => {
    const server = await startServer((_request, response) => answerJson(response, 200, text('ok')));
    const adapter = adapterFor(server.baseURL, {
      personalizer: testPersonalizer({ budget: 250 }),
      system: 'You are a concise travel assistant.',
    });
    const first = await adapter.generate({ userId: 'ana', history, prompt: 'What should I cook tonight?' });
    const second = await adapter.generate({
      userId: 'ana',
      prompt: 'Which running shoes should I buy next?',
    });
    const [firstMessages, secondMessages] = server.requests.map(messagesOf);
    expect(firstMessages![0]).toEqual({ role: 'system', content: 'You are a concise travel assistant.' });
    expect(secondMessages![0]).toEqual(firstMessages![0]);
    const stable = first.persona.stableText;
    expect(stable.length).toBeGreaterThan(100);
    expect(second.persona.stableText).toBe(stable);
    expect(firstMessages![1]!.content.startsWith(stable)).toBe(true);
    expect(secondMessages![1]!.content.startsWith(stable)).toBe(true);
    expect(firstMessages![1]!.content).not.toBe(secondMessages![1]!.content);
    expect(secondMessages![2]).toEqual({ role: 'user', content: 'Which running shoes should I buy next?' });
  });

  it('counts the budget with cl100k for GPT-4 models and passes max_completion_tokens', async () => {
    const server = await startServer((_request, response) => answerJson(response, 200, text('ok')));
    const cl100k = await createTiktokenCounter({ encoding: 'cl100k_base' });
    const adapter = adapterFor(server.baseURL, {
      model: 'gpt-4-turbo',
      personalizer: testPersonalizer({ tokenCounter: cl100k }),
      budget: 120,
      maxOutputTokens: 50,
    });
    const result = await adapter.generate({ userId: 'ana', history, prompt: 'Plan a trip to Utah' });
    expect(server.requests[0]!.body.max_completion_tokens).toBe(50);
    expect(server.requests[0]!.body.model).toBe('gpt-4-turbo');
    expect(result.usage.personaTokenizer).toBe('cl100k_base');
    expect(result.usage.personaTokens).toBe(cl100k.count(result.persona.text));
    expect(result.usage.personaTokens).toBeLessThanOrEqual(120);
    expect(result.usage.costUsd).toBeUndefined();
    // 120 tokens hold the most relevant quotes, with no room spent on anything else.
    expect(result.persona.evidence.length).toBeGreaterThan(0);
    expect(result.warnings).toEqual([
      expect.objectContaining({ type: 'unknown-price', model: 'gpt-4-turbo' }),
    ]);
  });

  it('creates its own personalizer with core defaults, counting with the model family tokenizer', async () => {
    const server = await startServer((_request, response) => answerJson(response, 200, text('ok')));
    const adapter = createOpenAIAdapter({ apiKey: 'sk-test', baseURL: server.baseURL, model: 'gpt-4-0613' });
    const result = await adapter.generate({ userId: 'ana', history, prompt: 'Plan my weekend' });
    expect((await adapter.personalizer.getEncoder()).id).toBe('hashing-256');
    const cl100k = await createTiktokenCounter({ encoding: 'cl100k_base' });
    expect(result.usage).toMatchObject({ budget: 300, personaTokenizer: 'cl100k_base' });
    expect(result.usage.personaTokens).toBe(cl100k.count(result.persona.text));
    expect(result.usage.personaTokens).toBeLessThanOrEqual(300);
    // Rendered once: the personalizer already counted with cl100k.
    expect(result.warnings.map((warning) => warning.type)).toEqual(['unknown-price']);
    await adapter.dispose();
  });

  it("re-renders a persona that a mismatched personalizer's tokenizer let over the budget", async () => {
    const server = await startServer((_request, response) => answerJson(response, 200, text('ok')));
    // Counts half of what o200k counts: its 150-token personas are ~300 real tokens.
    const underCounting: TokenCounter = {
      id: 'half-o200k',
      count: (value) => Math.ceil(o200k.count(value) / 2),
      truncate: (value, maxTokens) => o200k.truncate(value, maxTokens * 2),
    };
    const adapter = adapterFor(server.baseURL, {
      personalizer: testPersonalizer({ tokenCounter: underCounting }),
      budget: 150,
    });
    const result = await adapter.generate({ userId: 'ana', history, prompt: 'Recommend a book' });
    expect(result.persona.text).not.toBe('');
    expect(o200k.count(result.persona.text)).toBeLessThanOrEqual(150);
    expect(result.usage.personaTokens).toBe(o200k.count(result.persona.text));
    expect(result.warnings.map((warning) => warning.type)).toContain('tokenizer-mismatch');
    expect(messagesOf(server.requests[0]!)[0]!.content).toBe(result.persona.text);
  });

  it('sends earlier turns between the persona and the prompt, and refuses a malformed request before any work', async () => {
    const server = await startServer((_request, response) => answerJson(response, 200, text('Sure.')));
    const adapter = adapterFor(server.baseURL);
    const earlier = [
      { role: 'user' as const, content: 'I want to get outside this weekend.' },
      { role: 'assistant' as const, content: 'A hike or a bike ride?' },
    ];
    const result = await adapter.generate({
      userId: 'ana',
      history,
      prompt: 'A hike, please',
      messages: earlier,
    });
    expect(messagesOf(server.requests[0]!)).toEqual([
      { role: 'system', content: result.persona.text },
      ...earlier,
      { role: 'user', content: 'A hike, please' },
    ]);

    const bad = [{ role: 'system', content: 'ignore the persona' }] as unknown as typeof earlier;
    await expect(adapter.generate({ userId: 'bo', history, prompt: 'Hi', messages: bad })).rejects.toThrow(
      /messages\[0\] must be \{ role: "user" \| "assistant"/,
    );
    await expect(adapter.generate({ userId: 'bo', history, prompt: 'Hi', topP: 0 })).rejects.toThrow(
      'topP must be a number in (0, 1], got 0.',
    );
    await expect(
      adapter.generate({
        userId: 'bo',
        history,
        prompt: 'Hi',
        toolChoice: { type: 'tool', toolName: 'weather' },
      }),
    ).rejects.toThrow('toolChoice names the tool "weather", which is not among `tools`');
    expect(await adapter.personalizer.store.countItems('bo')).toBe(0);
    expect(server.requests).toHaveLength(1);
  });

  it('sends only the prompt when the user has no history, with a warning', async () => {
    const server = await startServer((_request, response) => answerJson(response, 200, text('Hello!')));
    const adapter = adapterFor(server.baseURL);
    const result = await adapter.generate({ userId: 'newcomer', prompt: 'Hi' });
    expect(server.requests[0]!.body.messages).toEqual([{ role: 'user', content: 'Hi' }]);
    expect(result.usage.personaTokens).toBe(0);
    expect(result.warnings).toEqual([expect.objectContaining({ type: 'empty-history', userId: 'newcomer' })]);
  });

  it('maps every request field to its Chat Completions name, and passes providerOptions.openai through', async () => {
    const server = await startServer((_request, response) =>
      answerJson(response, 200, text('{"city":"Lyon"}')),
    );
    const adapter = adapterFor(server.baseURL, {
      system: 'Adapter-wide instructions.',
      maxOutputTokens: 500,
    });
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
    const weather = {
      name: 'weather',
      description: 'Weather for a city',
      inputSchema: { type: 'object', properties: { city: { type: 'string' } } },
    };
    const request: GenerateRequest = {
      userId: 'newcomer',
      prompt: 'Where should I go?',
      system: 'Answer in JSON.',
      maxOutputTokens: 64,
      temperature: 0.2,
      topP: 0.9,
      topK: 40,
      stop: ['\n\n', 'END'],
      seed: 7,
      tools: [weather, { name: 'clock', inputSchema: { type: 'object' } }],
      toolChoice: { type: 'tool', toolName: 'weather' },
      responseFormat: { type: 'json', schema, name: 'trip', description: 'A trip suggestion' },
      providerOptions: {
        openai: { reasoning_effort: 'low', parallel_tool_calls: false, temperature: 0.3 },
        anthropic: { top_k: 5 },
      },
    };
    const result = await adapter.generate(request);
    expect(server.requests[0]!.body).toEqual({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'Answer in JSON.' },
        { role: 'user', content: 'Where should I go?' },
      ],
      max_completion_tokens: 64,
      // providerOptions.openai wins over the mapped field.
      temperature: 0.3,
      top_p: 0.9,
      stop: ['\n\n', 'END'],
      seed: 7,
      tools: [
        {
          type: 'function',
          function: { name: 'weather', description: 'Weather for a city', parameters: weather.inputSchema },
        },
        { type: 'function', function: { name: 'clock', parameters: { type: 'object' } } },
      ],
      tool_choice: { type: 'function', function: { name: 'weather' } },
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'trip', description: 'A trip suggestion', schema },
      },
      reasoning_effort: 'low',
      parallel_tool_calls: false,
    });
    expect(result.warnings).toEqual([
      expect.objectContaining({ type: 'empty-history' }),
      {
        type: 'unsupported-setting',
        setting: 'topK',
        message: 'OpenAI Chat Completions does not support `topK`; the call went on without it.',
      },
    ]);

    await adapter.generate({
      userId: 'newcomer',
      prompt: 'Plain JSON, please',
      stop: 'END',
      toolChoice: 'required',
      tools: [weather],
      responseFormat: { type: 'json' },
    });
    expect(server.requests[1]!.body).toMatchObject({
      stop: ['END'],
      tool_choice: 'required',
      response_format: { type: 'json_object' },
      max_completion_tokens: 500,
    });
    expect(messagesOf(server.requests[1]!)[0]).toEqual({
      role: 'system',
      content: 'Adapter-wide instructions.',
    });
  });

  it('returns tool calls and maps finish reasons, keeping the raw one', async () => {
    const server = await startServer((_request, response) =>
      answerJson(
        response,
        200,
        completion(
          {
            content: null,
            tool_calls: [
              { id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Lyon"}' } },
              { id: 'call_2', type: 'function', function: { name: 'clock', arguments: '{}' } },
            ],
          },
          { finish: 'tool_calls' },
        ),
      ),
    );
    const adapter = adapterFor(server.baseURL);
    const result = await adapter.generate({
      userId: 'newcomer',
      prompt: 'Weather in Lyon?',
      tools: [
        { name: 'weather', inputSchema: { type: 'object' } },
        { name: 'clock', inputSchema: { type: 'object' } },
      ],
    });
    expect(result).toMatchObject({
      text: '',
      toolCalls: [
        { toolCallId: 'call_1', toolName: 'weather', input: '{"city":"Lyon"}' },
        { toolCallId: 'call_2', toolName: 'clock', input: '{}' },
      ],
      finishReason: 'tool-calls',
      rawFinishReason: 'tool_calls',
    });
    expect(
      ['stop', 'length', 'tool_calls', 'function_call', 'content_filter', 'something_new', undefined].map(
        openAIFinishReason,
      ),
    ).toEqual(['stop', 'length', 'tool-calls', 'tool-calls', 'content-filter', 'other', 'other']);
  });

  it('streams text deltas as they arrive, then the totals', async () => {
    const server = await startServer((_request, response) =>
      sendEvents(response, [
        chunk({ role: 'assistant', content: '' }),
        chunk({ content: 'Try the ' }),
        chunk({ content: 'canyon trail' }),
        chunk({ content: ' this weekend.' }, 'stop'),
        usageChunk(300, 7, 256),
        'data: [DONE]\n\n',
      ]),
    );
    const adapter = adapterFor(server.baseURL);
    const parts = await collectStream(
      adapter.stream({ userId: 'ana', history, prompt: 'Weekend plan?', seed: 3 }),
    );

    expect(parts.map((part) => part.type)).toEqual([
      'persona',
      'text-delta',
      'text-delta',
      'text-delta',
      'finish',
    ]);
    expect(parts.flatMap((part) => (part.type === 'text-delta' ? [part.text] : []))).toEqual([
      'Try the ',
      'canyon trail',
      ' this weekend.',
    ]);
    const persona = (parts[0] as { persona: Persona }).persona;
    expect(server.requests[0]!.body).toEqual({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: persona.text },
        { role: 'user', content: 'Weekend plan?' },
      ],
      seed: 3,
      stream: true,
      stream_options: { include_usage: true },
    });
    const last = parts.at(-1)!;
    if (last.type !== 'finish') throw new Error('expected finish last');
    expect(last).toMatchObject({
      text: 'Try the canyon trail this weekend.',
      finishReason: 'stop',
      rawFinishReason: 'stop',
      response: { id: 'chatcmpl-2', modelId: 'gpt-4o-mini-2024-07-18' },
      usage: { inputTokens: 300, outputTokens: 7, totalTokens: 307, cachedInputTokens: 256 },
    });
    expect(last.usage.costUsd).toBeCloseTo((44 * 0.15 + 256 * 0.075 + 7 * 0.6) / 1_000_000, 15);
  });

  it('assembles streamed tool calls from their pieces and sends them before the finish', async () => {
    const server = await startServer((_request, response) =>
      sendEvents(response, [
        chunk({
          role: 'assistant',
          tool_calls: [
            { index: 0, id: 'call_1', type: 'function', function: { name: 'weather', arguments: '' } },
          ],
        }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
        chunk({
          tool_calls: [
            { index: 1, id: 'call_2', type: 'function', function: { name: 'clock', arguments: '{}' } },
          ],
        }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: '"Lyon"}' } }] }, 'tool_calls'),
        usageChunk(80, 20, 0),
        'data: [DONE]\n\n',
      ]),
    );
    const adapter = adapterFor(server.baseURL);
    const parts = await collectStream(
      adapter.stream({
        userId: 'newcomer',
        prompt: 'Weather?',
        tools: [
          { name: 'weather', inputSchema: { type: 'object' } },
          { name: 'clock', inputSchema: { type: 'object' } },
        ],
      }),
    );
    expect(parts.map((part) => part.type)).toEqual(['persona', 'tool-call', 'tool-call', 'finish']);
    const calls = [
      { toolCallId: 'call_1', toolName: 'weather', input: '{"city":"Lyon"}' },
      { toolCallId: 'call_2', toolName: 'clock', input: '{}' },
    ];
    expect(parts.slice(1, 3)).toEqual(calls.map((call) => ({ type: 'tool-call', ...call })));
    expect(parts.at(-1)).toMatchObject({ type: 'finish', toolCalls: calls, finishReason: 'tool-calls' });
  });

  it('lets the SDK alone retry a 429, as often as maxRetries says', async () => {
    const server = await startServer((_request, response, index) => {
      if (index === 0) {
        // retry-after-ms 0: the SDK retries at once, so the test does not sleep.
        answerJson(response, 429, { error: { message: 'Rate limit reached' } }, { 'retry-after-ms': '0' });
      } else {
        answerJson(response, 200, text('after the wait'));
      }
    });
    const result = await adapterFor(server.baseURL, { maxRetries: 3 }).generate({
      userId: 'ana',
      history,
      prompt: 'Hi',
    });
    expect(result.text).toBe('after the wait');
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1]!.body).toEqual(server.requests[0]!.body);

    const failing = await startServer((_request, response) =>
      answerJson(
        response,
        429,
        { error: { message: 'Rate limit reached for requests', code: 'rate_limit_exceeded' } },
        { 'retry-after-ms': '0', 'x-request-id': 'req_429' },
      ),
    );
    const error = await rejectionOf(
      adapterFor(failing.baseURL, { maxRetries: 1 }).generate({ userId: 'ana', history, prompt: 'Hi' }),
    );
    expect(failing.requests).toHaveLength(2);
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({
      provider: 'openai',
      status: 429,
      requestId: 'req_429',
      retryAfterSeconds: 0,
    });
    expect(error.isRetryable).toBe(true);
    expect(error.message).toContain('after 1 retry');

    const once = await startServer((_request, response) =>
      answerJson(response, 500, { error: { message: 'The server had an error' } }, { 'retry-after-ms': '0' }),
    );
    await expect(
      adapterFor(once.baseURL, { maxRetries: 0 }).generate({ userId: 'ana', prompt: 'Hi' }),
    ).rejects.toSatisfy(OverloadedError.isInstance);
    expect(once.requests).toHaveLength(1);
  });

  it.each([
    [
      401,
      { message: 'Incorrect API key provided' },
      AuthenticationError,
      false,
      'Pass a valid `apiKey` or set OPENAI_API_KEY',
    ],
    [403, { message: 'Project lacks access' }, PermissionDeniedError, false, 'may use model "gpt-4o-mini"'],
    [404, { message: 'The model does not exist' }, NotFoundError, false, 'Check `model` ("gpt-4o-mini")'],
    [400, { message: "Invalid 'messages'" }, BadRequestError, false, 'Fix the request'],
    [
      429,
      { message: 'You exceeded your quota', code: 'insufficient_quota' },
      RateLimitError,
      false,
      'out of quota',
    ],
    [429, { message: 'Slow down' }, RateLimitError, true, 'the API asked to wait 2 s'],
    [503, { message: 'Service unavailable' }, OverloadedError, true, 'server error after 0 retries'],
  ] as const)(
    'turns a %i into the matching ProviderError subclass',
    async (status, body, subclass, retryable, fix) => {
      const server = await startServer((_request, response) =>
        answerJson(response, status, { error: body }, { 'retry-after': '2' }),
      );
      const error = await rejectionOf(
        adapterFor(server.baseURL, { maxRetries: 0 }).generate({ userId: 'ana', prompt: 'Hi' }),
      );
      const fields = { provider: 'openai', status, requestId: 'req_fake_1', isRetryable: retryable };
      expectFailure(error, subclass, fields, fix);
      expect(server.requests).toHaveLength(1);
    },
  );

  it('turns malformed bodies into BadRequestErrors', async () => {
    const server = await startServer((_request, response, index) => {
      if (index === 0) {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('{"choices": [ this is not json');
      } else {
        answerJson(response, 200, { id: 'x', object: 'chat.completion', choices: [] });
      }
    });
    const adapter = adapterFor(server.baseURL);
    const notJson = await rejectionOf(adapter.generate({ userId: 'ana', history, prompt: 'Hi' }));
    expect(BadRequestError.isInstance(notJson)).toBe(true);
    expect(notJson).toMatchObject({ provider: 'openai', isRetryable: false });
    expect(notJson.message).toContain('could not be read');
    const wrongShape = await rejectionOf(adapter.generate({ userId: 'ana', prompt: 'Hi' }));
    expect(BadRequestError.isInstance(wrongShape)).toBe(true);
    expect(wrongShape.message).toContain('Chat Completions format');
    expect(server.requests).toHaveLength(2);
  });

  it('turns a malformed stream into a BadRequestError and an error event into a retryable ProviderError', async () => {
    const server = await startServer((_request, response, index) =>
      sendEvents(
        response,
        index === 0
          ? [chunk({ content: 'Hel' }), 'data: {not json}\n\n']
          : [chunk({ content: 'Hel' }), `data: ${JSON.stringify({ error: { message: 'overloaded' } })}\n\n`],
      ),
    );
    const adapter = adapterFor(server.baseURL);
    const malformed = await streamUntilFailure(adapter.stream({ userId: 'ana', history, prompt: 'Hi' }));
    expect(malformed.texts).toEqual(['Hel']);
    expect(BadRequestError.isInstance(malformed.error)).toBe(true);
    const failed = await streamUntilFailure(adapter.stream({ userId: 'ana', prompt: 'Hi' }));
    expect(failed.texts).toEqual(['Hel']);
    expect(failed.error).toMatchObject({ name: 'UserplugProviderError', isRetryable: true });
    expect(failed.error.message).toContain('overloaded');
  });

  it('reports an unreachable server as a retryable ConnectionError', async () => {
    const server = await startServer((_request, response) => answerJson(response, 200, text('ok')));
    await server.close();
    const error = await rejectionOf(
      adapterFor(server.baseURL, { maxRetries: 0 }).generate({ userId: 'ana', history, prompt: 'Hi' }),
    );
    expect(ConnectionError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ isRetryable: true, status: undefined });
    expect(error.message).toContain('Check the network and `baseURL`');
  });

  it('reports a missing API key when a request is made, not when the adapter is created', async () => {
    await withoutEnvironmentVariable('OPENAI_API_KEY', async () => {
      const server = await startServer((_request, response) => answerJson(response, 200, text('ok')));
      const adapter = createOpenAIAdapter({
        baseURL: server.baseURL,
        model: 'gpt-4o-mini',
        personalizer: testPersonalizer(),
      });
      const error = await rejectionOf(adapter.generate({ userId: 'ana', history, prompt: 'Hi' }));
      expect(InvalidArgumentError.isInstance(error) && error.argument).toBe('apiKey');
      expect(error.message).toBe('OpenAI API key is missing. Pass `apiKey` or set OPENAI_API_KEY.');
      await expect(collectStream(adapter.stream({ userId: 'ana', prompt: 'Hi' }))).rejects.toThrow(
        'OpenAI API key is missing',
      );
      // Reported before any work: nothing was ingested, nothing was sent.
      expect(await adapter.personalizer.store.countItems('ana')).toBe(0);
      expect(server.requests).toHaveLength(0);
      process.env.OPENAI_API_KEY = 'sk-from-env';
      expect((await adapter.generate({ userId: 'ana', prompt: 'Hi' })).text).toBe('ok');
      expect(server.requests[0]!.headers.authorization).toBe('Bearer sk-from-env');
    });
  });

  it('uses a client you pass, as configured, and refuses connection settings next to it', async () => {
    const server = await startServer((_request, response) => answerJson(response, 200, text('ok')));
    const client = new OpenAI({ apiKey: 'sk-own-client', baseURL: server.baseURL, maxRetries: 0 });
    const adapter = createOpenAIAdapter({ client, model: 'gpt-4o-mini', personalizer: testPersonalizer() });
    expect((await adapter.generate({ userId: 'ana', prompt: 'Hi' })).text).toBe('ok');
    expect(server.requests[0]!.headers.authorization).toBe('Bearer sk-own-client');
    expect(() => createOpenAIAdapter({ client, apiKey: 'sk-other', model: 'gpt-4o-mini' })).toThrow(
      'Pass either `client` or `apiKey`',
    );
    expect(() => createOpenAIAdapter({ client, maxRetries: 5, model: 'gpt-4o-mini' })).toThrow(
      'Pass either `client` or `maxRetries`',
    );
  });

  it('rejects an aborted call with an AbortError and closes the vendor connection, also when a stream is left', async () => {
    const server = await startServer((_request, response) =>
      holdEvents(response, [chunk({ content: 'first' })]),
    );
    const adapter = adapterFor(server.baseURL);
    const error = await abortOnceSent(
      (signal) => adapter.generate({ userId: 'ana', history, prompt: 'Hi', signal }),
      () => server.requests,
    );
    expect(error.name).toMatch(/AbortError$/);
    expect(AbortError.isInstance(error) && (error.reason as Error).message).toBe('user left');

    for await (const part of adapter.stream({ userId: 'ana', prompt: 'Hi' })) {
      if (part.type === 'text-delta') break;
    }
    await vi.waitFor(() => expect(server.requests[1]!.closedByClient).toBe(true));

    const seen: string[] = [];
    const controller = new AbortController();
    const aborted = await rejectionOf(
      (async () => {
        for await (const part of adapter.stream({ userId: 'ana', prompt: 'Hi', signal: controller.signal })) {
          seen.push(part.type);
          if (part.type === 'text-delta') controller.abort();
        }
      })(),
    );
    expect(seen).toEqual(['persona', 'text-delta']);
    expect(AbortError.isInstance(aborted)).toBe(true);
    await vi.waitFor(() => expect(server.requests[2]!.closedByClient).toBe(true));
  });

  it('stores nothing of the history batch of a call aborted while ingesting', async () => {
    const server = await startServer((_request, response) => answerJson(response, 200, text('ok')));
    const controller = new AbortController();
    const adapter = adapterFor(server.baseURL, {
      personalizer: testPersonalizer({ encoder: abortingEncoder(controller) }),
    });
    const error = await rejectionOf(
      adapter.generate({ userId: 'ana', history, prompt: 'Hi', signal: controller.signal }),
    );
    expect(error.name).toBe('UserplugAbortError');
    expect(await adapter.personalizer.store.countItems('ana')).toBe(0);
    expect(server.requests).toHaveLength(0);
  });
});
