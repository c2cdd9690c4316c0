// A personalized answer from Claude: the stable persona block is cache-marked, the budget is
// checked with Anthropic's token counting endpoint.
//   ANTHROPIC_API_KEY=sk-ant-... node --conditions=@userplug/source --import tsx examples/anthropic.ts
import { fileURLToPath } from 'node:url';
import { createAnthropicAdapter } from '@userplug/anthropic';
import { readHistoryFile } from '@userplug/core';

if (!process.env.ANTHROPIC_API_KEY) {
  console.log(
    'Set ANTHROPIC_API_KEY (and optionally USERPLUG_MODEL, default claude-haiku-4-5) to run this example.',
  );
} else {
  const llm = createAnthropicAdapter({
    model: process.env.USERPLUG_MODEL ?? 'claude-haiku-4-5',
    budget: 300,
  });
  const history = await readHistoryFile(fileURLToPath(new URL('./sample-history.jsonl', import.meta.url)));
  const { text, persona, usage, warnings } = await llm.generate({
    userId: 'sample-user',
    history,
    prompt: 'Suggest a weekend plan for me',
  });
  console.log(`${persona.text}\n\n${text}\n`);
  console.log(usage, warnings);
  for await (const chunk of llm.stream({
    userId: 'sample-user',
    prompt: 'And what should I cook on Sunday?',
  })) {
    if (chunk.type === 'text-delta') process.stdout.write(chunk.text);
    if (chunk.type === 'finish') console.log('\n', chunk.usage);
  }
  await llm.dispose();
}
