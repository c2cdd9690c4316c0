// A personalized answer from OpenAI, then a streamed follow-up that reuses the cached persona prefix. The history
// is embedded with OpenAI's text-embedding-3-small (createOpenAIEncoder) instead of the offline default encoder.
//   OPENAI_API_KEY=sk-... node --conditions=@userplug/source --import tsx examples/openai.ts
import { fileURLToPath } from 'node:url';
import { createPersonalizer, readHistoryFile } from '@userplug/core';
import { createOpenAIAdapter, createOpenAIEncoder } from '@userplug/openai';

if (!process.env.OPENAI_API_KEY) {
  console.log(
    'Set OPENAI_API_KEY (and optionally USERPLUG_MODEL, default gpt-5.4-mini) to run this example.',
  );
} else {
  const personalizer = createPersonalizer({
    encoder: createOpenAIEncoder({ model: 'text-embedding-3-small', dimensions: 512 }),
    tokenCounter: 'o200k_base',
  });
  const llm = createOpenAIAdapter({
    model: process.env.USERPLUG_MODEL ?? 'gpt-5.4-mini',
    personalizer,
    budget: 300,
    system: 'You are a concise assistant.',
  });
  const history = await readHistoryFile(fileURLToPath(new URL('./sample-history.jsonl', import.meta.url)));
  const { text, persona, usage, warnings } = await llm.generate({
    userId: 'sample-user',
    history,
    prompt: 'Suggest a weekend plan for me',
    temperature: 0.3,
  });
  console.log(`${persona.text}\n\n${text}\n`);
  console.log(usage, warnings);
  for await (const part of llm.stream({
    userId: 'sample-user',
    prompt: 'And what should I cook on Sunday?',
    messages: [
      { role: 'user', content: 'Suggest a weekend plan for me' },
      { role: 'assistant', content: text },
    ],
  })) {
    if (part.type === 'text-delta') process.stdout.write(part.text);
    if (part.type === 'finish') console.log('\n', part.usage, part.timings);
  }
  await llm.dispose();
  await personalizer.dispose();
}
