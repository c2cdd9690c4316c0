import { execFile } from 'node:child_process';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createHashingEncoder, createPersonalizer } from '@userplug/core';
import { afterEach, describe, expect, it } from 'vitest';
import { needsKeyMessage, runChatbot } from './chatbot.js';

const repositoryRoot = fileURLToPath(new URL('../../', import.meta.url));
const closers: Array<() => Promise<void>> = [];

afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

/** A fake OpenAI on 127.0.0.1 that streams a fixed answer and records the request bodies. */
async function startFakeOpenAI() {
  const bodies: Array<{ messages: Array<{ role: string; content: string }> }> = [];
  const server = createServer((request, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = (content: string) =>
        `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'gpt-5.4-mini', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
      response.write(chunk(`Answer ${bodies.length}`));
      response.write(chunk('.'));
      response.write(
        `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'gpt-5.4-mini', choices: [], usage: { prompt_tokens: 100, completion_tokens: 3, prompt_tokens_details: { cached_tokens: 0 } } })}\n\n`,
      );
      response.end('data: [DONE]\n\n');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, bodies };
}

describe('examples/chatbot', () => {
  it('ingests every user turn, so the persona sent with later turns remembers earlier ones', async () => {
    const fake = await startFakeOpenAI();
    const input = new PassThrough();
    const output = new PassThrough();
    let transcript = '';
    output.on('data', (chunk: Buffer) => {
      transcript += chunk.toString('utf8');
    });
    input.end(
      [
        'I just adopted a beagle called Juniper and we go trail running every morning.',
        'I am vegetarian and I really dislike mushrooms.',
        '/persona',
        'What should I cook for dinner tonight?',
        '/quit',
        'never read',
      ].join('\n'),
    );
    const exitCode = await runChatbot({
      input,
      output,
      env: { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: fake.baseURL },
      userId: 'sam',
      personalizer: createPersonalizer({ encoder: createHashingEncoder(), tokenCounter: 'o200k_base' }),
    });

    expect(exitCode).toBe(0);
    expect(fake.bodies).toHaveLength(3);
    const systemOf = (index: number) =>
      fake.bodies[index]!.messages.filter((message) => message.role === 'system').map(
        (message) => message.content,
      );
    // Turn 1: nothing known yet, only the app's own instructions.
    expect(systemOf(0)).toHaveLength(1);
    // Turn 2 knows turn 1; turn 3 knows both, and the prompt is always last.
    expect(systemOf(1)[1]).toContain('Juniper');
    expect(systemOf(2)[1]).toContain('Juniper');
    expect(systemOf(2)[1]).toContain('mushrooms');
    expect(fake.bodies[2]!.messages.at(-1)).toEqual({
      role: 'user',
      content: 'What should I cook for dinner tonight?',
    });
    // The earlier turns, as said, come between the persona and the prompt.
    expect(fake.bodies[2]!.messages.slice(2, -1)).toEqual([
      { role: 'user', content: fake.bodies[0]!.messages.at(-1)!.content },
      { role: 'assistant', content: 'Answer 1.' },
      { role: 'user', content: 'I am vegetarian and I really dislike mushrooms.' },
      { role: 'assistant', content: 'Answer 2.' },
    ]);
    expect(transcript).toContain('bot> Answer 1.');
    expect(transcript).toContain('bot> Answer 3.');
    expect(transcript).toContain('<user_persona>');
    expect(transcript).toMatch(/\[persona \d+\/400 tokens/);
    expect(transcript).toContain('Bye.');
  });

  it('explains what it needs and exits 0 when no key is set', async () => {
    const environment = { ...process.env };
    delete environment.OPENAI_API_KEY;
    delete environment.ANTHROPIC_API_KEY;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--conditions=@userplug/source', '--import', 'tsx', 'examples/chatbot/chatbot.ts'],
      { cwd: repositoryRoot, env: environment },
    );
    expect(stdout).toBe(needsKeyMessage);
  });
});
