// The persona as AI SDK middleware. With AI_GATEWAY_API_KEY it calls a real model through the AI
// Gateway; without it, a mock model prints the prompt it would have received.
//   node --conditions=@userplug/source --import tsx examples/ai-sdk.ts
import { fileURLToPath } from 'node:url';
import { userplugMiddleware } from '@userplug/ai-sdk';
import { createPersonalizer, readHistoryFile } from '@userplug/core';
import { gateway, generateText, type LanguageModel, wrapLanguageModel } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';

const personalizer = createPersonalizer({ budget: 300 });
await personalizer.ingest(
  'sample-user',
  await readHistoryFile(fileURLToPath(new URL('./sample-history.jsonl', import.meta.url))),
);

const echo = new MockLanguageModelV4({
  doGenerate: async ({ prompt }) => ({
    content: [{ type: 'text', text: `(mock model) I was sent:\n${JSON.stringify(prompt, null, 2)}` }],
    finishReason: { unified: 'stop', raw: 'stop' },
    usage: {
      inputTokens: { total: undefined, noCache: undefined, cacheRead: undefined, cacheWrite: undefined },
      outputTokens: { total: undefined, text: undefined, reasoning: undefined },
    },
    warnings: [],
  }),
});
const base: LanguageModel = process.env.AI_GATEWAY_API_KEY
  ? gateway(process.env.USERPLUG_MODEL ?? 'openai/gpt-5.4-mini')
  : echo;

// One wrapped model for every user of the app: each call names its user.
const model = wrapLanguageModel({ model: base, middleware: userplugMiddleware({ personalizer }) });
const { text, warnings } = await generateText({
  model,
  system: 'Be brief.',
  prompt: 'Suggest a weekend plan for me',
  providerOptions: { userplug: { userId: 'sample-user' } },
});
console.log(text);
if (warnings && warnings.length > 0) console.log(warnings);
await personalizer.dispose();
