// Personalize one prompt from the sample history with the embedded offline encoder.
// Run: node --conditions=@userplug/source --import tsx examples/personalize.ts
import { fileURLToPath } from 'node:url';
import { createPersonalizer, readHistoryFile } from '@userplug/core';

const personalizer = createPersonalizer({ budget: 250 });
const history = await readHistoryFile(fileURLToPath(new URL('./sample-history.jsonl', import.meta.url)));
const ingest = await personalizer.ingest('maya', history);
console.log(`Ingested ${ingest.inserted} items in ${ingest.durationMs.toFixed(0)} ms, no LLM call.`);

for (const prompt of ['What should I cook for my vegan friends tonight?', 'Recommend my next novel']) {
  const { messages, persona, usage } = await personalizer.personalize({ userId: 'maya', prompt });
  console.log(`\n# ${prompt}\n${messages[0]?.content}`);
  console.log(
    `Top items: ${persona.attributions
      .slice(0, 3)
      .map((item) => `${item.itemId} (${item.weight.toFixed(2)})`)
      .join(', ')}`,
  );
  console.log(`${usage.personaTokens} persona tokens for ${usage.historyTokens} history tokens.`);
}
await personalizer.dispose();
