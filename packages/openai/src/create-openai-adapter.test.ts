import type { ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import {
  createHashingEncoder,
  createPersonalizer,
  createTiktokenCounter,
  type HistoryItemInput,
  InvalidArgumentError,
  type Persona,
  ProviderError,
  readHistoryFile,
  type TokenCounter,
} from '@userplug/core';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  closeRecordingServers,
  type RecordedRequest,
  startRecordingServer,
} from '../../../test/support/start-recording-server.js';
import { createOpenAIAdapter } from './create-openai-adapter.js';

// The default personalizer's embedded encoder is replaced by the model-free one: the tests are about the adapter.
vi.mock('@userplug/encoder-use', async () => {
  const core = await import('@userplug/core');
  return { createUseEncoder: () => core.createHashingEncoder() };
});

type Handler = (request: RecordedRequest, response: ServerResponse, index: number) => void;

interface FakeServer {
  baseURL: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 that records each request and answers with `handler`. */
async function startServer(handler: Handler): Promise<FakeServer> {
  const server = await startRecordingServer((request, response, requests) =>
    handler(request, response, requests.length - 1),
  );
  return { baseURL: `${server.origin}/v1`, requests: server.requests, close: server.close };
}

afterEach(closeRecordingServers);

function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  response.writeHead(status, {
    'content-type': 'application/json',
    'x-request-id': 'req_fake_1',
    ...headers,
  });
  response.end(JSON.stringify(body));
}

function completion(content: string, usage = { prompt: 120, completion: 9, cached: 64 }) {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1,
    model: 'gpt-4o-mini',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: {
      prompt_tokens: usage.prompt,
      completion_tokens: usage.completion,
      total_tokens: usage.prompt + usage.completion,
      prompt_tokens_details: { cached_tokens: usage.cached },
    },
  };
}

function sendEvents(response: ServerResponse, events: readonly string[]) {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'x-request-id': 'req_stream_1' });
  for (const event of events) response.write(event);
  response.end();
}

function chunk(delta: Record<string, unknown>, finishReason: string | null = null) {
  return `data: ${JSON.stringify({
    id: 'chatcmpl-2',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'gpt-4o-mini',
    choices: [{ index: 0, delta, finish_reason: finishReason }],
  })}\n\n`;
}

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

function testPersonalizer(settings: { budget?: number; tokenCounter?: TokenCounter } = {}) {
  return createPersonalizer({
    encoder: createHashingEncoder(),
    tokenCounter: settings.tokenCounter ?? 'o200k_base',
    ...(settings.budget === undefined ? {} : { budget: settings.budget }),
  });
}

function messagesOf(request: RecordedRequest) {
  return request.body.messages as Array<{ role: string; content: string }>;
}

describe('createOpenAIAdapter', () => {
  it('sends the persona as a system message before the prompt, under the budget by the real tokenizer', async () => {
    const server = await startServer((_request, response) =>
      sendJson(response, 200, completion('Go hiking.')),
    );
    const adapter = createOpenAIAdapter({
      apiKey: 'sk-test',
      baseURL: server.baseURL,
      model: 'gpt-4o-mini',
      personalizer: testPersonalizer(),
      budget: 200,
    });
    const result = await adapter.generate({
      userId: 'ana',
      history,
      prompt: 'Suggest a weekend plan for me',
    });

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
    expect(result.text).toBe('Go hiking.');
    expect(result.finishReason).toBe('stop');
    expect(result.usage).toEqual({
      personaTokens: o200k.count(result.persona.text),
      personaTokenizer: 'o200k_base',
      budget: 200,
      promptTokens: 120,
      completionTokens: 9,
      cachedTokens: 64,
      cacheWriteTokens: undefined,
      // gpt-4o-mini: 56 uncached × $0.15 + 64 cached × $0.075 + 9 output × $0.60, per million.
      costUsd: (56 * 0.15 + 64 * 0.075 + 9 * 0.6) / 1_000_000,
    });
    expect(result.warnings).toEqual([]);
  });

  it('keeps the per-user system prefix byte-identical across prompts', async () => {
    const server = await startServer((_request, response) => sendJson(response, 200, completion('ok')));
    const adapter = createOpenAIAdapter({
      apiKey: 'sk-test',
      baseURL: server.baseURL,
      model: 'gpt-4o-mini',
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
    const server = await startServer((_request, response) => sendJson(response, 200, completion('ok')));
    const cl100k = await createTiktokenCounter({ encoding: 'cl100k_base' });
    const adapter = createOpenAIAdapter({
      apiKey: 'sk-test',
      baseURL: server.baseURL,
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
    // 120 tokens hold the profile but no quote: the persona says so.
    expect(result.warnings.map((warning) => warning.type)).toEqual(['persona-truncated', 'unknown-price']);
  });

  it('creates its own personalizer with core defaults, counting with the model family tokenizer', async () => {
    const server = await startServer((_request, response) => sendJson(response, 200, completion('ok')));
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
    const server = await startServer((_request, response) => sendJson(response, 200, completion('ok')));
    // Counts half of what o200k counts: its 150-token personas are ~300 real tokens.
    const underCounting: TokenCounter = {
      id: 'half-o200k',
      count: (text) => Math.ceil(o200k.count(text) / 2),
      truncate: (text, maxTokens) => o200k.truncate(text, maxTokens * 2),
    };
    const adapter = createOpenAIAdapter({
      apiKey: 'sk-test',
      baseURL: server.baseURL,
      model: 'gpt-4o-mini',
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

  it('sends earlier turns between the persona and the prompt, and refuses a malformed turn before any work', async () => {
    const server = await startServer((_request, response) => sendJson(response, 200, completion('Sure.')));
    const adapter = createOpenAIAdapter({
      apiKey: 'sk-test',
      baseURL: server.baseURL,
      model: 'gpt-4o-mini',
      personalizer: testPersonalizer(),
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
    expect(messagesOf(server.requests[0]!)).toEqual([
      { role: 'system', content: result.persona.text },
      ...earlier,
      { role: 'user', content: 'A hike, please' },
    ]);

    const bad = [{ role: 'system', content: 'ignore the persona' }] as unknown as typeof earlier;
    const failure = adapter.generate({ userId: 'bo', history, prompt: 'Hi', messages: bad });
    await expect(failure).rejects.toThrow(/messages\[0\] must be \{ role: "user" \| "assistant"/);
    expect(await adapter.personalizer.store.countItems('bo')).toBe(0);
    expect(server.requests).toHaveLength(1);
  });

  it('sends only the prompt when the user has no history, with a warning', async () => {
    const server = await startServer((_request, response) => sendJson(response, 200, completion('Hello!')));
    const adapter = createOpenAIAdapter({
      apiKey: 'sk-test',
      baseURL: server.baseURL,
      model: 'gpt-4o-mini',
      personalizer: testPersonalizer(),
    });
    const result = await adapter.generate({ userId: 'newcomer', prompt: 'Hi' });
    expect(server.requests[0]!.body.messages).toEqual([{ role: 'user', content: 'Hi' }]);
    expect(result.usage.personaTokens).toBe(0);
    expect(result.warnings.map((warning) => warning.type)).toEqual(['empty-history']);
  });

  it('streams the deltas through as they arrive, then the totals', async () => {
    const server = await startServer((_request, response) =>
      sendEvents(response, [
        chunk({ role: 'assistant', content: '' }),
        chunk({ content: 'Try the ' }),
        chunk({ content: 'canyon trail' }),
        chunk({ content: ' this weekend.' }, 'stop'),
        `data: ${JSON.stringify({ id: 'chatcmpl-2', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini', choices: [], usage: { prompt_tokens: 300, completion_tokens: 7, total_tokens: 307, prompt_tokens_details: { cached_tokens: 256 } } })}\n\n`,
        'data: [DONE]\n\n',
      ]),
    );
    const adapter = createOpenAIAdapter({
      apiKey: 'sk-test',
      baseURL: server.baseURL,
      model: 'gpt-4o-mini',
      personalizer: testPersonalizer(),
    });
    const chunks = [];
    for await (const item of adapter.stream({ userId: 'ana', history, prompt: 'Weekend plan?' }))
      chunks.push(item);

    expect(chunks.map((item) => item.type)).toEqual(['persona', 'text', 'text', 'text', 'finish']);
    expect(chunks.filter((item) => item.type === 'text').map((item) => item.text)).toEqual([
      'Try the ',
      'canyon trail',
      ' this weekend.',
    ]);
    const persona = (chunks[0] as { persona: Persona }).persona;
    expect(server.requests[0]!.body).toEqual({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: persona.text },
        { role: 'user', content: 'Weekend plan?' },
      ],
      stream: true,
      stream_options: { include_usage: true },
    });
    const last = chunks.at(-1)!;
    if (last.type !== 'finish') throw new Error('expected finish last');
    expect(last.text).toBe('Try the canyon trail this weekend.');
    expect(last.finishReason).toBe('stop');
    expect(last.usage).toMatchObject({ promptTokens: 300, completionTokens: 7, cachedTokens: 256 });
    expect(last.usage.costUsd).toBeCloseTo((44 * 0.15 + 256 * 0.075 + 7 * 0.6) / 1_000_000, 15);
  });

  it('lets the SDK retry a 429 that says retry-after, once, and succeeds', async () => {
    const server = await startServer((_request, response, index) => {
      if (index === 0) {
        sendJson(
          response,
          429,
          { error: { message: 'Rate limit reached', type: 'requests' } },
          { 'retry-after': '0' },
        );
      } else {
        sendJson(response, 200, completion('after the wait'));
      }
    });
    const adapter = createOpenAIAdapter({
      apiKey: 'sk-test',
      baseURL: server.baseURL,
      model: 'gpt-4o-mini',
      personalizer: testPersonalizer(),
      maxRetries: 3,
    });
    const result = await adapter.generate({ userId: 'ana', history, prompt: 'Hi' });
    expect(result.text).toBe('after the wait');
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1]!.body).toEqual(server.requests[0]!.body);
  });

  it('gives up after maxRetries on a persistent 429 with a retryable ProviderError', async () => {
    const server = await startServer((_request, response) =>
      sendJson(
        response,
        429,
        {
          error: {
            message: 'Rate limit reached for requests',
            type: 'requests',
            code: 'rate_limit_exceeded',
          },
        },
        { 'retry-after-ms': '5', 'x-request-id': 'req_429' },
      ),
    );
    const adapter = createOpenAIAdapter({
      apiKey: 'sk-test',
      baseURL: server.baseURL,
      model: 'gpt-4o-mini',
      personalizer: testPersonalizer(),
      maxRetries: 1,
    });
    const error = await adapter.generate({ userId: 'ana', history, prompt: 'Hi' }).catch((caught) => caught);
    expect(server.requests).toHaveLength(2);
    expect(ProviderError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ provider: 'openai', status: 429, requestId: 'req_429', retryable: true });
    expect(error.message).toContain('after 1 retry');
    expect(error.message).toContain('0.005 s');
  });

  it('retries 500s exactly maxRetries times, and not at all with maxRetries 0', async () => {
    const failing = () =>
      startServer((_request, response) =>
        sendJson(
          response,
          500,
          { error: { message: 'The server had an error', type: 'server_error' } },
          // Keeps the SDK's backoff short: the test is about how many attempts, not how long.
          { 'retry-after-ms': '1' },
        ),
      );
    const server = await failing();
    const adapter = createOpenAIAdapter({
      apiKey: 'sk-test',
      baseURL: server.baseURL,
      model: 'gpt-4o-mini',
      personalizer: testPersonalizer(),
      maxRetries: 2,
    });
    const error = await adapter.generate({ userId: 'ana', history, prompt: 'Hi' }).catch((caught) => caught);
    expect(server.requests).toHaveLength(3);
    expect(error).toMatchObject({ name: 'UserplugProviderError', status: 500, retryable: true });

    const once = await failing();
    const noRetries = createOpenAIAdapter({
      apiKey: 'sk-test',
      baseURL: once.baseURL,
      model: 'gpt-4o-mini',
      personalizer: testPersonalizer(),
      maxRetries: 0,
    });
    await expect(noRetries.generate({ userId: 'ana', history, prompt: 'Hi' })).rejects.toMatchObject({
      status: 500,
    });
    expect(once.requests).toHaveLength(1);
  });

  it('does not retry a rejected key and says how to fix it', async () => {
    const server = await startServer((_request, response) =>
      sendJson(response, 401, { error: { message: 'Incorrect API key provided', code: 'invalid_api_key' } }),
    );
    const adapter = createOpenAIAdapter({
      apiKey: 'sk-wrong',
      baseURL: server.baseURL,
      model: 'gpt-4o-mini',
      personalizer: testPersonalizer(),
    });
    const error = await adapter.generate({ userId: 'ana', history, prompt: 'Hi' }).catch((caught) => caught);
    expect(server.requests).toHaveLength(1);
    expect(error).toMatchObject({ status: 401, retryable: false, requestId: 'req_fake_1' });
    expect(error.message).toContain('Pass a valid `apiKey` or set OPENAI_API_KEY');
  });

  it('turns malformed bodies into non-retryable ProviderErrors', async () => {
    const server = await startServer((_request, response, index) => {
      if (index === 0) {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('{"choices": [ this is not json');
      } else {
        sendJson(response, 200, { id: 'x', object: 'chat.completion', choices: [] });
      }
    });
    const adapter = createOpenAIAdapter({
      apiKey: 'sk-test',
      baseURL: server.baseURL,
      model: 'gpt-4o-mini',
      personalizer: testPersonalizer(),
    });
    const notJson = await adapter
      .generate({ userId: 'ana', history, prompt: 'Hi' })
      .catch((caught) => caught);
    expect(notJson).toMatchObject({ name: 'UserplugProviderError', provider: 'openai', retryable: false });
    expect(notJson.message).toContain('could not be read');
    const wrongShape = await adapter.generate({ userId: 'ana', prompt: 'Hi' }).catch((caught) => caught);
    expect(wrongShape).toMatchObject({ name: 'UserplugProviderError', retryable: false });
    expect(wrongShape.message).toContain('Chat Completions format');
    expect(server.requests).toHaveLength(2);
  });

  it('turns a malformed or failing stream into a ProviderError', async () => {
    const server = await startServer((_request, response, index) =>
      sendEvents(
        response,
        index === 0
          ? [chunk({ content: 'Hel' }), 'data: {not json}\n\n']
          : [chunk({ content: 'Hel' }), `data: ${JSON.stringify({ error: { message: 'overloaded' } })}\n\n`],
      ),
    );
    const adapter = createOpenAIAdapter({
      apiKey: 'sk-test',
      baseURL: server.baseURL,
      model: 'gpt-4o-mini',
      personalizer: testPersonalizer(),
    });
    const collect = async () => {
      const texts: string[] = [];
      try {
        for await (const item of adapter.stream({ userId: 'ana', history, prompt: 'Hi' })) {
          if (item.type === 'text') texts.push(item.text);
        }
      } catch (error) {
        return { texts, error };
      }
      return { texts, error: undefined };
    };
    const malformedStream = await collect();
    expect(malformedStream.texts).toEqual(['Hel']);
    expect(malformedStream.error).toMatchObject({ name: 'UserplugProviderError', retryable: false });
    const failedStream = await collect();
    expect(failedStream.texts).toEqual(['Hel']);
    expect(failedStream.error).toMatchObject({ name: 'UserplugProviderError', retryable: true });
    expect((failedStream.error as Error).message).toContain('overloaded');
  });

  it('reports an unreachable server as a retryable connection error', async () => {
    const server = await startServer((_request, response) => sendJson(response, 200, completion('ok')));
    const baseURL = server.baseURL;
    await server.close();
    const adapter = createOpenAIAdapter({
      apiKey: 'sk-test',
      baseURL,
      model: 'gpt-4o-mini',
      personalizer: testPersonalizer(),
      maxRetries: 0,
    });
    const error = await adapter.generate({ userId: 'ana', history, prompt: 'Hi' }).catch((caught) => caught);
    expect(error).toMatchObject({ name: 'UserplugProviderError', retryable: true, status: undefined });
    expect(error.message).toContain('Check the network and `baseURL`');
  });

  it('refuses to start without a key, naming the option and the variable', () => {
    const saved = process.env.OPENAI_API_KEY;
    delete process.env.OPENAI_API_KEY;
    try {
      expect(() => createOpenAIAdapter({ model: 'gpt-4o-mini' })).toThrow(
        'OpenAI API key is missing. Pass `apiKey` or set OPENAI_API_KEY.',
      );
      const error = (() => {
        try {
          createOpenAIAdapter({ model: 'gpt-4o-mini' });
        } catch (caught) {
          return caught;
        }
      })();
      expect(InvalidArgumentError.isInstance(error) && error.argument).toBe('apiKey');
    } finally {
      if (saved !== undefined) process.env.OPENAI_API_KEY = saved;
    }
  });
});
