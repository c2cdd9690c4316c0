import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeLampFixture } from './lamp.fixture.js';
import { writePersonaBenchFixture } from './personabench.fixture.js';
import { runEvalCli } from './run-eval-cli.js';

// --model openai:… through the real @userplug/openai adapter, against a Chat Completions server on 127.0.0.1.
const answers: Record<string, string> = {
  'Where does my sister live?': 'Lisbon',
  "What is my dog's name?": 'Pixel',
  'What do I like?': 'vegan food and trail running',
  'Am I happy?': 'yes',
  'How old am I?': '41',
  'Which club am I in?': 'chess club',
  'What language am I learning?': 'Portuguese',
};

let server: Server;
let scratch: string;
const saved = { key: process.env.OPENAI_API_KEY, url: process.env.OPENAI_BASE_URL };
const bodies: { model: string; messages: { role: string; content: string }[] }[] = [];

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'userplug-hosted-'));
  writePersonaBenchFixture(join(scratch, 'personabench'));
  writeLampFixture(join(scratch, 'lamp'));
  server = createServer((request, response) => {
    let raw = '';
    request.on('data', (chunk: Buffer) => {
      raw += chunk.toString('utf8');
    });
    request.on('end', () => {
      const body = JSON.parse(raw) as (typeof bodies)[number];
      bodies.push(body);
      const prompt = body.messages.at(-1)!.content;
      const question = prompt.slice(prompt.lastIndexOf('Question: ') + 'Question: '.length);
      const text = answers[question] ?? (prompt.includes('bakers') ? 'romance' : 'sci-fi');
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          id: 'chatcmpl-1',
          object: 'chat.completion',
          created: 1,
          model: body.model,
          choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 1000, completion_tokens: 10, total_tokens: 1010 },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.env.OPENAI_API_KEY = 'test-key';
  process.env.OPENAI_BASE_URL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

afterAll(async () => {
  for (const [name, value] of [
    ['OPENAI_API_KEY', saved.key],
    ['OPENAI_BASE_URL', saved.url],
  ] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(scratch, { recursive: true, force: true });
});

function io() {
  const out = { stdout: '', stderr: '' };
  return {
    out,
    io: {
      stdout: { write: (text: string) => (out.stdout += text) },
      stderr: { write: (text: string) => (out.stderr += text) },
    },
  };
}

describe('--model openai:… (hosted adapter, local server)', () => {
  it('answers PersonaBench questions end to end with the official prompt and scores them', async () => {
    const { out, io: streams } = io();
    const code = await runEvalCli(
      [
        'personabench',
        '--data',
        join(scratch, 'personabench'),
        '--community',
        '7',
        '--noise',
        '0.0',
        '--qa',
        '--method',
        'gold-context',
        '--model',
        'openai:gpt-4o-mini',
        '--json',
        '--results',
        join(scratch, 'results'),
      ],
      streams,
    );
    expect(out.stderr).toBe('');
    expect(code).toBe(0);
    const result = JSON.parse(out.stdout) as Record<string, unknown>;
    expect(result).toMatchObject({
      task: 'qa',
      method: 'gold-context',
      model: 'openai:gpt-4o-mini',
      n: 6,
      // "vegan food and trail running": precision 4/5; "Portuguese" for {language, portuguese}: recall 1/2.
      f1: expect.closeTo((4 + 8 / 9 + 2 / 3) / 6, 12),
    });
    expect(result.usage).toEqual({
      calls: 7,
      inputTokens: 7000,
      outputTokens: 70,
      costUsd: expect.closeTo((7000 * 0.15 + 70 * 0.6) / 1e6, 12),
      countedBy: 'model',
    });
    expect(bodies[0]!.messages).toHaveLength(1);
    expect(bodies[0]!.messages[0]!.content).toMatch(
      /^You are provided with the following relevant information: \['\{"time"/,
    );
  });

  it('runs LaMP with the hosted model and writes leaderboard predictions', async () => {
    const { out, io: streams } = io();
    const code = await runEvalCli(
      [
        'lamp',
        '--data',
        join(scratch, 'lamp'),
        '--task',
        '2',
        '--method',
        'bm25-k',
        '--k',
        '1',
        '--model',
        'openai:gpt-4o-mini',
        '--json',
        '--results',
        join(scratch, 'results'),
      ],
      streams,
    );
    expect(code).toBe(0);
    const result = JSON.parse(out.stdout) as {
      metrics: Record<string, number>;
      usage: { calls: number };
      modelKind: string;
    };
    expect(result.metrics.accuracy).toBe(1);
    expect(result.usage.calls).toBe(2);
    expect(result.modelKind).toBe('llm');
  });
});
