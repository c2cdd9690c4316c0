// A terminal chat whose memory is the user's persona: every user turn is ingested into the
// user's history (embedded, no LLM call) and the next answer is personalized from it.
//
//   OPENAI_API_KEY=sk-... node --conditions=@userplug/source --import tsx examples/chatbot/chatbot.ts
//   ANTHROPIC_API_KEY=sk-ant-... node --conditions=@userplug/source --import tsx examples/chatbot/chatbot.ts \
//     --history examples/sample-history.jsonl
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { createAnthropicAdapter } from '@userplug/anthropic';
import {
  type ConversationMessage,
  type ModelAdapter,
  type Persona,
  type Personalizer,
  readHistoryFile,
  UserplugError,
} from '@userplug/core';
import { createOpenAIAdapter } from '@userplug/openai';

/** Options of {@link runChatbot}. */
export interface ChatbotOptions {
  /** Where the user's lines come from. */
  input: NodeJS.ReadableStream;
  /** Where the chat is written. */
  output: NodeJS.WritableStream;
  /** Environment: OPENAI_API_KEY or ANTHROPIC_API_KEY, and the optional variables listed in `needsKeyMessage`. */
  env: Record<string, string | undefined>;
  /** The chatting user. Default `me`. */
  userId?: string;
  /** A JSONL history file ingested before the chat starts. Default none. */
  historyPath?: string;
  /** Builds the personas. Default: the adapter's own (embedded encoder, in-memory store). */
  personalizer?: Personalizer;
}

export const needsKeyMessage = `This chat needs a hosted model. Set one of:
  OPENAI_API_KEY=sk-...        (model: USERPLUG_CHAT_MODEL, default gpt-5.4-mini; OPENAI_BASE_URL for a compatible server)
  ANTHROPIC_API_KEY=sk-ant-... (model: USERPLUG_CHAT_MODEL, default claude-haiku-4-5; ANTHROPIC_BASE_URL likewise)
With both set, USERPLUG_CHAT_PROVIDER=openai|anthropic picks one. Then run again:
  node --conditions=@userplug/source --import tsx examples/chatbot/chatbot.ts [--user ID] [--history FILE.jsonl]
`;

// Earlier turns sent with each prompt, as user–assistant pairs.
const recentTurnLimit = 3;

const help =
  'Commands: /persona shows the persona of the last answer, /forget erases your history, /quit leaves.';

function createAdapter(options: ChatbotOptions): ModelAdapter | undefined {
  const { env } = options;
  const choice =
    env.USERPLUG_CHAT_PROVIDER ??
    (env.OPENAI_API_KEY ? 'openai' : env.ANTHROPIC_API_KEY ? 'anthropic' : undefined);
  const shared = {
    ...(options.personalizer === undefined ? {} : { personalizer: options.personalizer }),
    system:
      'You are a friendly, concise assistant. Use what you know about the user when it helps; never invent facts about them.',
    budget: 400,
  };
  if (choice === 'openai' && env.OPENAI_API_KEY) {
    return createOpenAIAdapter({
      ...shared,
      apiKey: env.OPENAI_API_KEY,
      model: env.USERPLUG_CHAT_MODEL ?? 'gpt-5.4-mini',
      ...(env.OPENAI_BASE_URL ? { baseURL: env.OPENAI_BASE_URL } : {}),
    });
  }
  if (choice === 'anthropic' && env.ANTHROPIC_API_KEY) {
    return createAnthropicAdapter({
      ...shared,
      apiKey: env.ANTHROPIC_API_KEY,
      model: env.USERPLUG_CHAT_MODEL ?? 'claude-haiku-4-5',
      ...(env.ANTHROPIC_BASE_URL ? { baseURL: env.ANTHROPIC_BASE_URL } : {}),
    });
  }
  return undefined;
}

function describePersona(persona: Persona | undefined): string {
  if (!persona || persona.text === '') return '(no persona yet: tell me something about yourself)';
  return persona.text;
}

/** Runs the chat until the input ends or the user types /quit. Returns the exit code. */
export async function runChatbot(options: ChatbotOptions): Promise<number> {
  const { output } = options;
  const write = (text: string) => output.write(text);
  const adapter = createAdapter(options);
  if (!adapter) {
    write(needsKeyMessage);
    return 0;
  }
  const userId = options.userId ?? 'me';
  try {
    if (options.historyPath) {
      const ingested = await adapter.personalizer.ingest(userId, await readHistoryFile(options.historyPath));
      write(`Loaded ${ingested.received} history items for "${userId}".\n`);
    }
    write(`Chatting with ${adapter.modelId} as "${userId}". ${help}\n`);
    const lines = createInterface({
      input: options.input,
      terminal: false,
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    let lastPersona: Persona | undefined;
    let turn = 0;
    // The last few turns go to the model as they were said; older ones reach it only through the persona.
    const recentTurns: ConversationMessage[] = [];
    write('you> ');
    for await (const raw of lines) {
      const line = raw.trim();
      if (line === '/quit') break;
      if (line === '') {
        write('you> ');
        continue;
      }
      if (line === '/persona') {
        write(`${describePersona(lastPersona)}\n\nyou> `);
        continue;
      }
      if (line === '/forget') {
        const report = await adapter.personalizer.forget(userId);
        lastPersona = undefined;
        write(`Erased ${report.itemsDeleted} items.\n\nyou> `);
        continue;
      }
      turn++;
      write('bot> ');
      let answer = '';
      try {
        for await (const chunk of adapter.stream({ userId, prompt: line, messages: recentTurns })) {
          if (chunk.type === 'persona') lastPersona = chunk.persona;
          if (chunk.type === 'text-delta') {
            answer += chunk.text;
            write(chunk.text);
          }
          if (chunk.type === 'finish') {
            const { usage } = chunk;
            const cost = usage.costUsd === undefined ? 'cost unknown' : `$${usage.costUsd.toFixed(6)}`;
            write(
              `\n     [persona ${usage.personaTokens}/${usage.budget} tokens, ` +
                `${chunk.persona.evidence.length} quoted items, cached ${usage.cachedInputTokens ?? 0} of ${usage.inputTokens ?? '?'} input tokens, ${cost}]\n`,
            );
          }
        }
      } catch (error) {
        // A failed call loses this answer, not the chat.
        write(`\n     [error: ${error instanceof Error ? error.message : String(error)}]\n`);
      }
      recentTurns.push({ role: 'user', content: line }, { role: 'assistant', content: answer });
      recentTurns.splice(0, Math.max(0, recentTurns.length - 2 * recentTurnLimit));
      // The turn joins the history only now, so the persona of this answer was built from earlier turns.
      await adapter.personalizer.ingest(userId, [
        { id: `chat-${Date.now()}-${turn}`, kind: 'message', text: line, timestamp: Date.now() },
      ]);
      write('\nyou> ');
    }
    write('\nBye.\n');
    return 0;
  } catch (error) {
    if (UserplugError.isInstance(error)) {
      write(`\n${error.message}\n`);
      return 1;
    }
    throw error;
  } finally {
    await adapter.dispose();
  }
}

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const userId = argument('--user');
  const historyPath = argument('--history');
  process.exitCode = await runChatbot({
    input: process.stdin,
    output: process.stdout,
    env: process.env,
    ...(userId === undefined ? {} : { userId }),
    ...(historyPath === undefined ? {} : { historyPath }),
  });
}
