import type { ServerResponse } from 'node:http';
import {
  AbortError,
  AuthenticationError,
  createPersonalizer,
  createTiktokenCounter,
  InvalidArgumentError,
} from '@userplug/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { sendJson } from '../../../test/support/send-wire-response.js';
import {
  closeRecordingServers,
  type RecordedRequest,
  startRecordingServer,
} from '../../../test/support/start-recording-server.js';
import { createOpenAIEncoder, type OpenAIEncoderSettings } from './create-openai-encoder.js';

afterEach(closeRecordingServers);

/** A made-up embedding of a text: the same text always gives the same (unnormalised) vector. */
function fakeEmbedding(text: string, dimensions: number): Float32Array {
  const vector = new Float32Array(dimensions);
  for (let index = 0; index < text.length; index++)
    vector[(text.charCodeAt(index) * 7 + index) % dimensions]! += 1;
  vector[0]! += 0.5;
  return vector;
}

function normalized(vector: Float32Array): number[] {
  const norm = Math.hypot(...vector);
  return [...vector].map((value) => value / norm);
}

/** Answers like the Embeddings API: base64 float32 when asked for, else arrays; data in reverse order, as the API may. */
function answerEmbeddings(request: RecordedRequest, response: ServerResponse) {
  const {
    input,
    dimensions,
    encoding_format: format,
  } = request.body as {
    input: string[];
    dimensions?: number;
    encoding_format?: string;
  };
  const data = input
    .map((text, index) => {
      const vector = fakeEmbedding(text, dimensions ?? 1536);
      const embedding = format === 'base64' ? Buffer.from(vector.buffer).toString('base64') : [...vector];
      return { object: 'embedding', index, embedding };
    })
    .reverse();
  sendJson(response, 200, {
    object: 'list',
    data,
    model: request.body.model,
    usage: { prompt_tokens: 1, total_tokens: 1 },
  });
}

async function startEmbeddingsServer(
  answer: (request: RecordedRequest, response: ServerResponse, index: number) => void = answerEmbeddings,
) {
  const server = await startRecordingServer((request, response, requests) =>
    answer(request, response, requests.length - 1),
  );
  return { baseURL: `${server.origin}/v1`, requests: server.requests };
}

function encoderFor(baseURL: string, settings: OpenAIEncoderSettings = {}) {
  return createOpenAIEncoder({ apiKey: 'sk-test', baseURL, maxRetries: 0, ...settings });
}

const inputsOf = (request: RecordedRequest) => request.body.input as string[];

describe('createOpenAIEncoder', () => {
  it('embeds in batches of at most maxInputsPerRequest, in order, as unit vectors, naming model and length in its id', async () => {
    const server = await startEmbeddingsServer();
    const encoder = encoderFor(server.baseURL, { dimensions: 256, maxInputsPerRequest: 2 });
    expect(encoder).toMatchObject({
      id: 'openai:text-embedding-3-small:256',
      dim: 256,
      maxInputTokens: 8191,
    });
    const texts = [
      'Hiked the ridge trail',
      'Vegetarian ramen',
      'Trail shoes',
      'Dog-friendly cabins',
      'Chess club',
    ];
    const vectors = await encoder.encode(texts);

    expect(server.requests.map(inputsOf)).toEqual([texts.slice(0, 2), texts.slice(2, 4), texts.slice(4)]);
    for (const request of server.requests) {
      expect(request.path).toBe('/v1/embeddings');
      expect(request.body).toMatchObject({
        model: 'text-embedding-3-small',
        dimensions: 256,
        encoding_format: 'base64',
      });
    }
    expect(vectors).toHaveLength(5);
    vectors.forEach((vector, index) => {
      expect(vector).toBeInstanceOf(Float32Array);
      const expected = normalized(fakeEmbedding(texts[index]!, 256));
      for (const [position, value] of vector.entries()) expect(value).toBeCloseTo(expected[position]!, 6);
    });
  });

  it('keeps each request under maxTokensPerRequest and cuts a text longer than the model reads', async () => {
    const server = await startEmbeddingsServer();
    const cl100k = await createTiktokenCounter({ encoding: 'cl100k_base' });
    const encoder = encoderFor(server.baseURL, { maxTokensPerRequest: 9000 });
    const fiveThousand = 'walk '.repeat(5000);
    const tooLong = 'swim '.repeat(9000);
    await encoder.encode([fiveThousand, fiveThousand, 'short', tooLong]);

    const sent = server.requests.map(inputsOf);
    // 5,000 + 5,000 tokens would pass 9,000; the short text joins the second; the long one, cut to 8,191, goes alone.
    expect(sent.map((inputs) => inputs.length)).toEqual([1, 2, 1]);
    for (const inputs of sent) {
      expect(inputs.reduce((sum, input) => sum + cl100k.count(input), 0)).toBeLessThanOrEqual(9000);
    }
    expect(cl100k.count(tooLong)).toBeGreaterThan(8191);
    expect(cl100k.count(sent[2]![0]!)).toBe(8191);
    expect(tooLong.startsWith(sent[2]![0]!)).toBe(true);
    expect(server.requests[0]!.body).not.toHaveProperty('dimensions');
  });

  it('accepts vectors sent as arrays, sends an empty text as a space, and serves a personalizer', async () => {
    const server = await startEmbeddingsServer((request, response) =>
      answerEmbeddings({ ...request, body: { ...request.body, encoding_format: 'float' } }, response),
    );
    const encoder = encoderFor(server.baseURL, { model: 'text-embedding-3-large', dimensions: 64 });
    const [empty] = await encoder.encode(['']);
    expect(inputsOf(server.requests[0]!)).toEqual([' ']);
    expect(empty!.length).toBe(64);

    const personalizer = createPersonalizer({ encoder, budget: 200 });
    const ingested = await personalizer.ingest('ana', [
      { id: 'h1', kind: 'post', text: 'Hiked the ridge trail with my dog at sunrise' },
      { id: 'h2', kind: 'review', text: 'Great vegetarian ramen, rich miso broth', rating: 5 },
    ]);
    expect(ingested).toMatchObject({ inserted: 2, embeddedTexts: 2 });
    const result = await personalizer.personalize({ userId: 'ana', prompt: 'A hike with my dog?' });
    expect(result.persona.evidence.map((evidence) => evidence.itemId)).toContain('h1');
    await personalizer.dispose();
  });

  it('refuses dimensions a model cannot make and an unknown model without dimensions', () => {
    expect(() => createOpenAIEncoder({ dimensions: 4096 })).toThrow('at most 1536 dimensions');
    expect(() => createOpenAIEncoder({ model: 'text-embedding-ada-002', dimensions: 512 })).toThrow(
      'cannot shorten its vectors',
    );
    const unknown = (() => {
      try {
        createOpenAIEncoder({ model: 'my-embedder' });
      } catch (error) {
        return error;
      }
    })();
    expect(InvalidArgumentError.isInstance(unknown) && unknown.argument).toBe('dimensions');
    expect(createOpenAIEncoder({ model: 'my-embedder', dimensions: 384 }).id).toBe('openai:my-embedder:384');
  });

  it('leaves retries to the SDK and turns failures into ProviderError subclasses', async () => {
    const server = await startEmbeddingsServer((request, response, index) => {
      if (index === 0)
        sendJson(response, 500, { error: { message: 'try later' } }, { 'retry-after-ms': '0' });
      else answerEmbeddings(request, response);
    });
    const [vector] = await encoderFor(server.baseURL, { maxRetries: 1 }).encode(['Hello']);
    expect(vector!.length).toBe(1536);
    expect(server.requests).toHaveLength(2);

    const refusing = await startEmbeddingsServer((_request, response) =>
      sendJson(response, 401, { error: { message: 'Incorrect API key' } }),
    );
    const error = await encoderFor(refusing.baseURL)
      .encode(['Hello'])
      .catch((caught) => caught);
    expect(AuthenticationError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ provider: 'openai', status: 401 });

    const short = await startEmbeddingsServer((_request, response) =>
      sendJson(response, 200, { data: [{ index: 0, embedding: [1, 0] }] }),
    );
    await expect(encoderFor(short.baseURL).encode(['Hello', 'Bye'])).rejects.toThrow(
      'a 2-dimensional vector where 1536 were asked for',
    );
  });

  it('reports a missing key when encoding, and stops the request when aborted', async () => {
    const saved = process.env.OPENAI_API_KEY;
    delete process.env.OPENAI_API_KEY;
    try {
      await expect(createOpenAIEncoder().encode(['Hello'])).rejects.toThrow(
        'OpenAI API key is missing. Pass `apiKey` or set OPENAI_API_KEY.',
      );
    } finally {
      if (saved !== undefined) process.env.OPENAI_API_KEY = saved;
    }

    const server = await startEmbeddingsServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
    });
    const controller = new AbortController();
    const pending = encoderFor(server.baseURL).encode(['Hello'], { signal: controller.signal });
    await vi.waitFor(() => expect(server.requests).toHaveLength(1));
    controller.abort();
    const error = await pending.catch((caught) => caught);
    expect(AbortError.isInstance(error)).toBe(true);
    await vi.waitFor(() => expect(server.requests[0]!.closedByClient).toBe(true));
  });
});
