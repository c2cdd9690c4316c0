import type { ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import Anthropic from '@anthropic-ai/sdk';
import {
  AbortError,
  AuthenticationError,
  BadRequestError,
  createEstimatingTokenCounter,
  createHashingEncoder,
  createPersonalizer,
  createTiktokenCounter,
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
import { holdEvents } from '../../../test/support/send-wire-response.js';
import {
  closeRecordingServers,
  type RecordedRequest,
  startRecordingServer,
} from '../../../test/support/start-recording-server.js';
import { anthropicFinishReason } from './anthropic-messages.js';
import { createAnthropicAdapter } from './create-anthropic-adapter.js';

// The default personalizer's embedded encoder is replaced by the model-free one: the tests are about the adapter.
vi.mock('@userplug/encoder-use', async () => {
  const core = await import('@userplug/core');
  return { createUseEncoder: () => core.createHashingEncoder() };
});

type Handler = (request: RecordedRequest, response: ServerResponse, index: number) => void;

interface FakeServer {
  baseURL: string;
  requests: RecordedRequest[];
  messageRequests(): RecordedRequest[];
  countRequests(): RecordedRequest[];
}

const isCountPath = (path: string) => path.startsWith('/v1/messages/count_tokens');

/** A real HTTP server on 127.0.0.1 that records each request and answers messages and token counts. */
async function startServer(onMessages: Handler, onCount: Handler = answerCount): Promise<FakeServer> {
  const server = await startRecordingServer((request, response, requests) => {
    const isCount = isCountPath(request.path);
    const same = requests.filter((earlier) => isCountPath(earlier.path) === isCount);
    (isCount ? onCount : onMessages)(request, response, same.length - 1);
  });
  const { requests } = server;
  return {
    baseURL: server.origin,
    requests,
    messageRequests: () =>
      requests.filter(
        (request) => request.path.startsWith('/v1/messages?') || request.path === '/v1/messages',
      ),
    countRequests: () => requests.filter((request) => isCountPath(request.path)),
  };
}

afterEach(closeRecordingServers);

let o200k: TokenCounter;
let history: HistoryItemInput[];

/** The fake's tokenizer: Claude counts 15% more than o200k here, plus 3 tokens per block and 7 per request. */
function fakeClaudeCount(body: Record<string, unknown>): number {
  const system = (body.system as Array<{ text: string }> | undefined) ?? [];
  const messages = body.messages as Array<{ content: string }>;
  const texts = [...system.map((block) => block.text), ...messages.map((message) => message.content)];
  return 7 + texts.reduce((sum, text) => sum + 3 + Math.ceil(o200k.count(text) * 1.15), 0);
}

function answerCount(request: RecordedRequest, response: ServerResponse) {
  sendJson(response, 200, { input_tokens: fakeClaudeCount(request.body) });
}

function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  response.writeHead(status, { 'content-type': 'application/json', 'request-id': 'req_fake_1', ...headers });
  response.end(JSON.stringify(body));
}

function message(text: string, usage = { input: 30, output: 12, cacheRead: 0, cacheWrite: 400 }) {
  return {
    id: 'msg_1',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-6',
    content: [{ type: 'text', text }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: {
      input_tokens: usage.input,
      output_tokens: usage.output,
      cache_read_input_tokens: usage.cacheRead,
      cache_creation_input_tokens: usage.cacheWrite,
    },
  };
}

function sendEvents(response: ServerResponse, events: ReadonlyArray<[string, unknown]>) {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'request-id': 'req_stream_1' });
  for (const [event, data] of events) {
    response.write(`event: ${event}\ndata: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
  }
  response.end();
}

function textDelta(text: string): [string, unknown] {
  return [
    'content_block_delta',
    { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } },
  ];
}

const messageStart: [string, unknown] = [
  'message_start',
  {
    type: 'message_start',
    message: {
      id: 'msg_2',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-6',
      content: [],
      stop_reason: null,
      usage: {
        input_tokens: 25,
        output_tokens: 1,
        cache_read_input_tokens: 410,
        cache_creation_input_tokens: 0,
      },
    },
  },
];

beforeAll(async () => {
  o200k = await createTiktokenCounter({ encoding: 'o200k_base' });
  const items: HistoryItemInput[] = [];
  for await (const item of await readHistoryFile(
    fileURLToPath(new URL('../../../examples/sample-history.jsonl', import.meta.url)),
  )) {
    items.push(item);
  }
  history = items;
});

async function estimatingPersonalizer(budget?: number) {
  return createPersonalizer({
    encoder: createHashingEncoder(),
    tokenCounter: await createEstimatingTokenCounter(),
    ...(budget === undefined ? {} : { budget }),
  });
}

function systemOf(request: RecordedRequest) {
  return request.body.system as Array<{ type: string; text: string; cache_control?: unknown }>;
}

describe('createAnthropicAdapter', () => {
  it('sends the stable persona block with cache_control, then the dynamic block, then the prompt', async () => {
    const server = await startServer((_request, response) => sendJson(response, 200, message('Go hiking.')));
    const adapter = createAnthropicAdapter({
      apiKey: 'sk-ant-test',
      baseURL: server.baseURL,
      model: 'claude-sonnet-4-6',
      budget: 250,
    });
    const result = await adapter.generate({
      userId: 'ana',
      history,
      prompt: 'Suggest a weekend plan for me',
    });
    const persona = result.persona;
    // The adapter made its own personalizer, with core's default (here: mocked) encoder.
    expect((await adapter.personalizer.getEncoder()).id).toBe('hashing-256');

    const [request] = server.messageRequests();
    // This SDK version sends the key as a bearer token.
    expect(request!.headers.authorization).toBe('Bearer sk-ant-test');
    expect(request!.headers['anthropic-version']).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(request!.body).toEqual({
      model: 'claude-sonnet-4-6',
      max_tokens: 1024,
      system: [
        { type: 'text', text: persona.stableText, cache_control: { type: 'ephemeral' } },
        { type: 'text', text: persona.dynamicText },
      ],
      messages: [{ role: 'user', content: 'Suggest a weekend plan for me' }],
    });
    expect(persona.stableText).toContain('<user_persona>');
    expect(persona.dynamicText).toContain('</user_persona>');
    expect(persona.evidence.length).toBeGreaterThan(0);

    // The endpoint counted the persona (the request with it minus the request without it): once as
    // rendered under the conservative estimate, once more after scaling up to fill the budget.
    expect(server.countRequests()).toHaveLength(3);
    const without = server.countRequests().find((count) => count.body.system === undefined);
    const withPersona = server
      .countRequests()
      .find(
        (count) =>
          count.body.system !== undefined &&
          JSON.stringify(count.body.system) === JSON.stringify(request!.body.system),
      );
    expect(withPersona!.body).toEqual({
      model: 'claude-sonnet-4-6',
      system: request!.body.system,
      messages: [{ role: 'user', content: '.' }],
    });
    expect(without!.body).toEqual({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: '.' }] });
    const expectedPersonaTokens = fakeClaudeCount(withPersona!.body) - fakeClaudeCount(without!.body);
    expect(result.usage).toEqual({
      personaTokens: expectedPersonaTokens,
      personaTokenizer: 'anthropic-count-tokens',
      budget: 250,
      inputTokens: 430,
      outputTokens: 12,
      totalTokens: 442,
      cachedInputTokens: 0,
      cacheWriteTokens: 400,
      // claude-sonnet-4-6: 30 × $3 + 400 cache writes × $3.75 + 12 × $15, per million.
      costUsd: (30 * 3 + 400 * 3.75 + 12 * 15) / 1_000_000,
    });
    expect(result.usage.personaTokens).toBeLessThanOrEqual(250);
    // Filling the budget by the API's count: the estimate alone would leave about a third unused.
    expect(result.usage.personaTokens).toBeGreaterThan(0.8 * 250);
    expect(result.text).toBe('Go hiking.');
    expect(result).toMatchObject({
      finishReason: 'stop',
      rawFinishReason: 'end_turn',
      toolCalls: [],
      response: { id: 'msg_1', modelId: 'claude-sonnet-4-6' },
      warnings: [],
    });
  });

  it('sends earlier turns before the prompt, after the cached system blocks', async () => {
    const server = await startServer((_request, response) => sendJson(response, 200, message('Sure.')));
    const adapter = createAnthropicAdapter({
      apiKey: 'sk-ant-test',
      baseURL: server.baseURL,
      model: 'claude-sonnet-4-6',
      countTokens: false,
      personalizer: await estimatingPersonalizer(),
    });
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
    const [request] = server.messageRequests();
    expect(request!.body.messages).toEqual([...earlier, { role: 'user', content: 'A hike, please' }]);
    expect(systemOf(request!)[0]!.text).toBe(result.persona.stableText);
  });

  it('keeps the cached stable block byte-identical across prompts, after your own system block', async () => {
    const server = await startServer((_request, response) =>
      sendJson(response, 200, message('ok', { input: 40, output: 3, cacheRead: 380, cacheWrite: 0 })),
    );
    const adapter = createAnthropicAdapter({
      apiKey: 'sk-ant-test',
      baseURL: server.baseURL,
      model: 'claude-haiku-4-5-20251001',
      personalizer: await estimatingPersonalizer(300),
      system: 'You are a concise assistant.',
    });
    const first = await adapter.generate({ userId: 'ana', history, prompt: 'What should I cook tonight?' });
    const second = await adapter.generate({
      userId: 'ana',
      prompt: 'Which running shoes should I buy next?',
    });
    const [firstSystem, secondSystem] = server.messageRequests().map(systemOf);
    expect(firstSystem![0]).toEqual({ type: 'text', text: 'You are a concise assistant.' });
    expect(firstSystem![1]).toEqual({
      type: 'text',
      text: first.persona.stableText,
      cache_control: { type: 'ephemeral' },
    });
    expect(secondSystem![1]).toEqual(firstSystem![1]);
    expect(second.persona.stableText).toBe(first.persona.stableText);
    expect(secondSystem![2]!.text).not.toBe(firstSystem![2]!.text);
    expect(second.usage).toMatchObject({ cachedInputTokens: 380, cacheWriteTokens: 0, inputTokens: 420 });
    // claude-haiku-4-5 (date suffix dropped): 40 × $1 + 380 reads × $0.10 + 3 × $5, per million.
    expect(second.usage.costUsd).toBeCloseTo((40 * 1 + 380 * 0.1 + 3 * 5) / 1_000_000, 15);
  });

  it('holds the persona to the budget with the conservative estimate when counting is off', async () => {
    const server = await startServer((_request, response) => sendJson(response, 200, message('ok')));
    const estimate = await createEstimatingTokenCounter();
    const adapter = createAnthropicAdapter({
      apiKey: 'sk-ant-test',
      baseURL: server.baseURL,
      model: 'claude-sonnet-4-6',
      personalizer: await estimatingPersonalizer(),
      budget: 200,
      countTokens: false,
    });
    const result = await adapter.generate({ userId: 'ana', history, prompt: 'Plan a trip to Utah' });
    expect(server.countRequests()).toHaveLength(0);
    expect(result.usage.personaTokenizer).toBe(estimate.id);
    expect(result.usage.personaTokens).toBe(estimate.count(result.persona.text));
    expect(result.usage.personaTokens).toBeLessThanOrEqual(200);
    // Never under-counts: the estimate is at least o200k × 1.6.
    expect(result.usage.personaTokens).toBeGreaterThanOrEqual(
      Math.ceil(o200k.count(result.persona.text) * 1.6),
    );
  });

  it('re-renders when the API counts more than the estimate allowed for', async () => {
    // This fake "Claude" counts 2.5× o200k: more than the 1.6× the estimate assumes.
    const heavyCount = (request: RecordedRequest, response: ServerResponse) => {
      const system = (request.body.system as Array<{ text: string }> | undefined) ?? [];
      const tokens = system.reduce((sum, block) => sum + Math.ceil(o200k.count(block.text) * 2.5), 10);
      sendJson(response, 200, { input_tokens: tokens });
    };
    const server = await startServer(
      (_request, response) => sendJson(response, 200, message('ok')),
      heavyCount,
    );
    const adapter = createAnthropicAdapter({
      apiKey: 'sk-ant-test',
      baseURL: server.baseURL,
      model: 'claude-sonnet-4-6',
      personalizer: await estimatingPersonalizer(),
      budget: 300,
    });
    const result = await adapter.generate({ userId: 'ana', history, prompt: 'Recommend a book' });
    expect(result.persona.text).not.toBe('');
    const sentSystem = systemOf(server.messageRequests()[0]!);
    const sentTokens = sentSystem.reduce((sum, block) => sum + Math.ceil(o200k.count(block.text) * 2.5), 0);
    expect(sentTokens).toBeLessThanOrEqual(300);
    expect(result.usage.personaTokens).toBe(sentTokens);
    expect(result.warnings.map((warning) => warning.type)).toContain('tokenizer-mismatch');
  });

  it('falls back to the estimate, with a warning, when the counting endpoint is missing', async () => {
    const server = await startServer(
      (_request, response) => sendJson(response, 200, message('ok')),
      (_request, response) =>
        sendJson(response, 404, { type: 'error', error: { type: 'not_found_error', message: 'Not found' } }),
    );
    const adapter = createAnthropicAdapter({
      apiKey: 'sk-ant-test',
      baseURL: server.baseURL,
      model: 'claude-sonnet-4-6',
      personalizer: await estimatingPersonalizer(),
      budget: 200,
    });
    const first = await adapter.generate({ userId: 'ana', history, prompt: 'Weekend?' });
    // 200 estimated tokens hold quotes of the history; the estimate is said.
    expect(first.persona.evidence.length).toBeGreaterThan(0);
    expect(first.warnings.map((warning) => warning.type)).toEqual(['compatibility']);
    expect(first.warnings[0]).toMatchObject({ feature: 'count-tokens' });
    expect(first.warnings[0]!.message).toContain("Anthropic's token counting failed (Anthropic answered 404");
    expect(first.usage.personaTokenizer).toMatch(/^estimate\(/);
    expect(first.usage.personaTokens).toBeLessThanOrEqual(200);
    const countsAfterFirst = server.countRequests().length;
    expect(countsAfterFirst).toBeGreaterThan(0);
    const second = await adapter.generate({ userId: 'ana', prompt: 'Dinner?' });
    // A 404 means the gateway has no such endpoint: it is not asked again, and not retried.
    expect(server.countRequests()).toHaveLength(countsAfterFirst);
    expect(second.warnings).toEqual([]);
  });

  it('streams text deltas through as they arrive, then usage merged from message_start and message_delta', async () => {
    const server = await startServer((_request, response) =>
      sendEvents(response, [
        messageStart,
        [
          'content_block_start',
          { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
        ],
        ['ping', { type: 'ping' }],
        textDelta('Try the '),
        textDelta('canyon trail'),
        textDelta(' this weekend.'),
        ['content_block_stop', { type: 'content_block_stop', index: 0 }],
        [
          'message_delta',
          {
            type: 'message_delta',
            delta: { stop_reason: 'end_turn', stop_sequence: null },
            usage: { output_tokens: 9, input_tokens: null, cache_read_input_tokens: null },
          },
        ],
        ['message_stop', { type: 'message_stop' }],
      ]),
    );
    const adapter = createAnthropicAdapter({
      apiKey: 'sk-ant-test',
      baseURL: server.baseURL,
      model: 'claude-sonnet-4-6',
      personalizer: await estimatingPersonalizer(),
      countTokens: false,
    });
    const chunks = [];
    for await (const item of adapter.stream({ userId: 'ana', history, prompt: 'Weekend plan?' }))
      chunks.push(item);
    expect(chunks.map((item) => item.type)).toEqual([
      'persona',
      'text-delta',
      'text-delta',
      'text-delta',
      'finish',
    ]);
    expect(chunks.flatMap((item) => (item.type === 'text-delta' ? [item.text] : []))).toEqual([
      'Try the ',
      'canyon trail',
      ' this weekend.',
    ]);
    const persona = (chunks[0] as { persona: Persona }).persona;
    expect(server.messageRequests()[0]!.body).toEqual({
      model: 'claude-sonnet-4-6',
      max_tokens: 1024,
      system: [
        { type: 'text', text: persona.stableText, cache_control: { type: 'ephemeral' } },
        { type: 'text', text: persona.dynamicText },
      ],
      messages: [{ role: 'user', content: 'Weekend plan?' }],
      stream: true,
    });
    const last = chunks.at(-1)!;
    if (last.type !== 'finish') throw new Error('expected finish last');
    expect(last.text).toBe('Try the canyon trail this weekend.');
    expect(last).toMatchObject({
      finishReason: 'stop',
      rawFinishReason: 'end_turn',
      response: { id: 'msg_2', modelId: 'claude-sonnet-4-6' },
    });
    expect(last.usage).toMatchObject({
      inputTokens: 435,
      outputTokens: 9,
      cachedInputTokens: 410,
      cacheWriteTokens: 0,
    });
  });

  function adapterFor(baseURL: string, settings: Partial<Parameters<typeof createAnthropicAdapter>[0]> = {}) {
    return createAnthropicAdapter({
      apiKey: 'sk-ant-test',
      baseURL,
      model: 'claude-sonnet-4-6',
      countTokens: false,
      personalizer: createPersonalizer({ encoder: createHashingEncoder(), tokenCounter: o200k }),
      ...settings,
    });
  }

  it('maps every request field to its Messages name, and passes providerOptions.anthropic through', async () => {
    const server = await startServer((_request, response) =>
      sendJson(response, 200, message('{"city":"Lyon"}')),
    );
    const adapter = adapterFor(server.baseURL, {
      system: 'Adapter-wide instructions.',
      maxOutputTokens: 500,
    });
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
    const weather = { name: 'weather', description: 'Weather for a city', inputSchema: { type: 'object' } };
    const request: GenerateRequest = {
      userId: 'newcomer',
      prompt: 'Where should I go?',
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello!' },
      ],
      system: 'Answer in JSON.',
      maxOutputTokens: 64,
      temperature: 0.2,
      topP: 0.9,
      topK: 40,
      stop: 'END',
      seed: 7,
      tools: [weather],
      toolChoice: 'required',
      responseFormat: { type: 'json', schema, name: 'trip' },
      providerOptions: { anthropic: { thinking: { type: 'disabled' }, top_k: 20 }, openai: { seed: 1 } },
    };
    const result = await adapter.generate(request);
    expect(server.messageRequests()[0]!.body).toEqual({
      model: 'claude-sonnet-4-6',
      max_tokens: 64,
      system: [{ type: 'text', text: 'Answer in JSON.' }],
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello!' },
        { role: 'user', content: 'Where should I go?' },
      ],
      temperature: 0.2,
      top_p: 0.9,
      // providerOptions.anthropic wins over the mapped field.
      top_k: 20,
      stop_sequences: ['END'],
      tools: [{ name: 'weather', description: 'Weather for a city', input_schema: { type: 'object' } }],
      tool_choice: { type: 'any' },
      output_config: { format: { type: 'json_schema', schema } },
      thinking: { type: 'disabled' },
    });
    expect(result.warnings).toEqual([
      expect.objectContaining({ type: 'empty-history' }),
      {
        type: 'unsupported-setting',
        setting: 'seed',
        message: 'Anthropic does not support `seed`; the call went on without it.',
      },
    ]);

    const plain = await adapter.generate({
      userId: 'newcomer',
      prompt: 'JSON without a schema',
      tools: [weather],
      toolChoice: { type: 'tool', toolName: 'weather' },
      responseFormat: { type: 'json' },
    });
    const body = server.messageRequests()[1]!.body;
    expect(body).toMatchObject({
      max_tokens: 500,
      system: [{ type: 'text', text: 'Adapter-wide instructions.' }],
      tool_choice: { type: 'tool', name: 'weather' },
    });
    expect(body).not.toHaveProperty('output_config');
    expect(plain.warnings.at(-1)).toMatchObject({ type: 'unsupported-setting', setting: 'responseFormat' });
    await adapter.generate({ userId: 'newcomer', prompt: 'No tools', tools: [weather], toolChoice: 'none' });
    expect(server.messageRequests()[2]!.body.tool_choice).toEqual({ type: 'none' });
  });

  it('returns tool calls, whole and streamed, and maps stop reasons keeping the raw one', async () => {
    const toolUse = { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Lyon' } };
    const server = await startServer((_request, response, index) => {
      if (index === 0) {
        sendJson(response, 200, {
          ...message('Let me check.'),
          content: [{ type: 'text', text: 'Let me check.' }, toolUse],
          stop_reason: 'tool_use',
        });
        return;
      }
      sendEvents(response, [
        messageStart,
        [
          'content_block_start',
          { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
        ],
        textDelta('Checking.'),
        ['content_block_stop', { type: 'content_block_stop', index: 0 }],
        [
          'content_block_start',
          { type: 'content_block_start', index: 1, content_block: { ...toolUse, input: {} } },
        ],
        [
          'content_block_delta',
          {
            type: 'content_block_delta',
            index: 1,
            delta: { type: 'input_json_delta', partial_json: '{"city":' },
          },
        ],
        [
          'content_block_delta',
          {
            type: 'content_block_delta',
            index: 1,
            delta: { type: 'input_json_delta', partial_json: ' "Lyon"}' },
          },
        ],
        ['content_block_stop', { type: 'content_block_stop', index: 1 }],
        [
          'message_delta',
          { type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 30 } },
        ],
        ['message_stop', { type: 'message_stop' }],
      ]);
    });
    const adapter = adapterFor(server.baseURL);
    const tools = [{ name: 'weather', inputSchema: { type: 'object' } }];
    const whole = await adapter.generate({ userId: 'newcomer', prompt: 'Weather?', tools });
    const call = { toolCallId: 'toolu_1', toolName: 'weather', input: '{"city":"Lyon"}' };
    expect(whole).toMatchObject({
      text: 'Let me check.',
      toolCalls: [call],
      finishReason: 'tool-calls',
      rawFinishReason: 'tool_use',
    });
    const parts = await collectStream(adapter.stream({ userId: 'newcomer', prompt: 'Weather?', tools }));
    expect(parts.map((part) => part.type)).toEqual(['persona', 'text-delta', 'tool-call', 'finish']);
    expect(parts[2]).toEqual({ type: 'tool-call', ...call, input: '{"city": "Lyon"}' });
    expect(parts[3]).toMatchObject({
      toolCalls: [{ ...call, input: '{"city": "Lyon"}' }],
      finishReason: 'tool-calls',
    });
    expect(
      ['end_turn', 'stop_sequence', 'max_tokens', 'tool_use', 'refusal', 'pause_turn', undefined].map(
        anthropicFinishReason,
      ),
    ).toEqual(['stop', 'stop', 'length', 'tool-calls', 'content-filter', 'other', 'other']);
  });

  it('lets the SDK alone retry, as often as maxRetries says', async () => {
    const server = await startServer((_request, response, index) => {
      if (index === 0) {
        sendJson(
          response,
          429,
          {
            type: 'error',
            error: { type: 'rate_limit_error', message: 'Number of requests has exceeded your rate limit' },
          },
          // The Anthropic SDK honours a positive wait only: 1 ms keeps the test from sleeping.
          { 'retry-after-ms': '1' },
        );
      } else {
        sendJson(response, 200, message('after the wait'));
      }
    });
    const result = await adapterFor(server.baseURL, { maxRetries: 2 }).generate({
      userId: 'ana',
      history,
      prompt: 'Hi',
    });
    expect(result.text).toBe('after the wait');
    expect(server.messageRequests()).toHaveLength(2);
    expect(server.messageRequests()[1]!.body).toEqual(server.messageRequests()[0]!.body);

    const failing = await startServer((_request, response) =>
      sendJson(
        response,
        529,
        { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
        { 'request-id': 'req_529', 'retry-after-ms': '1' },
      ),
    );
    const error = await rejectionOf(
      adapterFor(failing.baseURL, { maxRetries: 3 }).generate({ userId: 'ana', prompt: 'Hi' }),
    );
    expect(failing.messageRequests()).toHaveLength(4);
    expect(OverloadedError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({
      provider: 'anthropic',
      status: 529,
      requestId: 'req_529',
      isRetryable: true,
    });
    expect(error.message).toContain('overloaded after 3 retries');
  });

  it.each([
    [
      401,
      'authentication_error',
      AuthenticationError,
      false,
      'Pass a valid `apiKey` or set ANTHROPIC_API_KEY',
    ],
    [403, 'permission_error', PermissionDeniedError, false, 'may use model "claude-sonnet-4-6"'],
    [404, 'not_found_error', NotFoundError, false, 'Check `model` ("claude-sonnet-4-6")'],
    [413, 'request_too_large', BadRequestError, false, 'Lower `budget` or shorten the prompt'],
    [400, 'invalid_request_error', BadRequestError, false, 'Fix the request'],
    [429, 'rate_limit_error', RateLimitError, true, 'the API asked to wait 30 s'],
    [500, 'api_error', OverloadedError, true, 'server error after 0 retries'],
  ] as const)(
    'turns a %i into the matching ProviderError subclass',
    async (status, type, subclass, retryable, fix) => {
      const server = await startServer((_request, response) =>
        sendJson(
          response,
          status,
          { type: 'error', error: { type, message: 'no' } },
          { 'retry-after': '30' },
        ),
      );
      const error = await rejectionOf(
        adapterFor(server.baseURL, { maxRetries: 0 }).generate({ userId: 'ana', prompt: 'Hi' }),
      );
      const fields = { provider: 'anthropic', status, requestId: 'req_fake_1', isRetryable: retryable };
      expectFailure(error, subclass, fields, fix);
      expect(server.messageRequests()).toHaveLength(1);
    },
  );

  it('turns malformed bodies and streams into BadRequestErrors, and error events by their type', async () => {
    const server = await startServer((_request, response, index) => {
      if (index === 0) {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('{"content": [ broken');
      } else if (index === 1) {
        sendJson(response, 200, { type: 'message', content: 'not an array' });
      } else if (index === 2) {
        sendEvents(response, [messageStart, textDelta('Hel'), ['content_block_delta', '{oops']]);
      } else {
        sendEvents(response, [
          messageStart,
          textDelta('Hel'),
          ['error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }],
        ]);
      }
    });
    const adapter = adapterFor(server.baseURL);
    const notJson = await rejectionOf(adapter.generate({ userId: 'ana', history, prompt: 'Hi' }));
    expect(BadRequestError.isInstance(notJson)).toBe(true);
    expect(notJson).toMatchObject({ provider: 'anthropic', isRetryable: false });
    const wrongShape = await rejectionOf(adapter.generate({ userId: 'ana', prompt: 'Hi' }));
    expect(BadRequestError.isInstance(wrongShape)).toBe(true);
    expect(wrongShape.message).toContain('Messages format');

    const malformedStream = await streamUntilFailure(adapter.stream({ userId: 'ana', prompt: 'Hi' }));
    expect(malformedStream.texts).toEqual(['Hel']);
    expect(BadRequestError.isInstance(malformedStream.error)).toBe(true);
    const failedStream = await streamUntilFailure(adapter.stream({ userId: 'ana', prompt: 'Hi' }));
    expect(failedStream.texts).toEqual(['Hel']);
    // An overloaded_error event inside a 200 stream: overloaded, retryable, without an HTTP status of its own.
    expect(OverloadedError.isInstance(failedStream.error)).toBe(true);
    expect(failedStream.error).toMatchObject({ status: undefined, isRetryable: true });
    expect(failedStream.error.message).toContain('mid-stream');
  });

  it('reports a missing API key when a request is made, and takes a client you pass', async () => {
    const server = await startServer((_request, response) => sendJson(response, 200, message('ok')));
    await withoutEnvironmentVariable('ANTHROPIC_API_KEY', async () => {
      const keyless = createAnthropicAdapter({
        baseURL: server.baseURL,
        model: 'claude-sonnet-4-6',
        countTokens: false,
      });
      const error = await rejectionOf(keyless.generate({ userId: 'ana', history, prompt: 'Hi' }));
      expect(InvalidArgumentError.isInstance(error) && error.argument).toBe('apiKey');
      expect(error.message).toBe('Anthropic API key is missing. Pass `apiKey` or set ANTHROPIC_API_KEY.');
      expect(await keyless.personalizer.store.countItems('ana')).toBe(0);
      expect(server.requests).toHaveLength(0);
      await keyless.dispose();
    });
    const client = new Anthropic({ apiKey: 'sk-ant-own', baseURL: server.baseURL, maxRetries: 0 });
    const adapter = createAnthropicAdapter({
      client,
      model: 'claude-sonnet-4-6',
      countTokens: false,
      personalizer: createPersonalizer({ encoder: createHashingEncoder(), tokenCounter: o200k }),
    });
    expect((await adapter.generate({ userId: 'ana', prompt: 'Hi' })).text).toBe('ok');
    expect(server.messageRequests()[0]!.headers.authorization).toBe('Bearer sk-ant-own');
    expect(() =>
      createAnthropicAdapter({ client, baseURL: 'http://127.0.0.1:1', model: 'claude-sonnet-4-6' }),
    ).toThrow('Pass either `client` or `baseURL`');
  });

  it('rejects an aborted call with an AbortError and closes the vendor connection, also when a stream is left', async () => {
    const server = await startServer((_request, response) => {
      const [name, data] = messageStart;
      const [deltaName, delta] = textDelta('first');
      holdEvents(response, [
        `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`,
        `event: ${deltaName}\ndata: ${JSON.stringify(delta)}\n\n`,
      ]);
    });
    const adapter = adapterFor(server.baseURL);
    for await (const part of adapter.stream({ userId: 'ana', history, prompt: 'Hi' })) {
      if (part.type === 'text-delta') break;
    }
    await vi.waitFor(() => expect(server.messageRequests()[0]!.closedByClient).toBe(true));

    const error = await abortOnceSent(
      (signal) => adapter.generate({ userId: 'ana', prompt: 'Hi', signal }),
      () => server.messageRequests(),
      1,
    );
    expect(error.name).toMatch(/AbortError$/);
    expect(AbortError.isInstance(error)).toBe(true);
  });

  it('stores nothing of the history batch of a call aborted while ingesting', async () => {
    const server = await startServer((_request, response) => sendJson(response, 200, message('ok')));
    const controller = new AbortController();
    const adapter = adapterFor(server.baseURL, {
      personalizer: createPersonalizer({ encoder: abortingEncoder(controller), tokenCounter: o200k }),
    });
    const error = await rejectionOf(
      adapter.generate({ userId: 'ana', history, prompt: 'Hi', signal: controller.signal }),
    );
    expect(error.name).toBe('UserplugAbortError');
    expect(await adapter.personalizer.store.countItems('ana')).toBe(0);
    expect(server.requests).toHaveLength(0);
  });
});
