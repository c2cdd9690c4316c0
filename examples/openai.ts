// A personalized answer from OpenAI, then a streamed follow-up that reuses the cached persona prefix.
//   OPENAI_API_KEY=sk-... node --conditions=@userplug/source --import tsx examples/openai.ts
import { fileURLToPath } from 'node:url';
import { readHistoryFile } from '@userplug/core';
import { createOpenAIAdapter } from '@userplug/openai';

if (!process.env.OPENAI_API_KEY) {
  console.log(
    'Set OPENAI_API_KEY (and optionally USERPLUG_MODEL, default gpt-5.4-mini) to run this example.',
  );
} else {
  const llm = createOpenAIAdapter({ model: process.env.USERPLUG_MODEL ?? 'gpt-5.4-mini', budget: 300 });
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
    if (chunk.type === 'text') process.stdout.write(chunk.text);
    if (chunk.type === 'finish') console.log('\n', chunk.usage);
  }
  await llm.dispose();
}
