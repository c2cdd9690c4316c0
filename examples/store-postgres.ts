// Several app instances share users through PostgreSQL; each personalize reads one user's rows and scores in process.
// Run: DATABASE_URL=postgresql://user:password@127.0.0.1:5432/db node --conditions=@userplug/source --import tsx examples/store-postgres.ts
// (a throwaway local server: eval "$(packages/store-postgres/scripts/start-test-postgres.sh)" and use $USERPLUG_TEST_DATABASE_URL)
import { fileURLToPath } from 'node:url';
import { createPersonalizer, readHistoryFile } from '@userplug/core';
import { createPostgresStore } from '@userplug/store-postgres';

const connectionString = process.env.DATABASE_URL ?? process.env.USERPLUG_TEST_DATABASE_URL;
if (!connectionString) {
  console.log('Set DATABASE_URL to a PostgreSQL server to run this example.');
  process.exit(0);
}
// Two stores with their own pools stand for two app instances.
const instanceA = createPostgresStore({ connectionString, schema: 'userplug_example' });
const instanceB = createPostgresStore({ connectionString, schema: 'userplug_example' });

const writer = createPersonalizer({ store: instanceA });
const history = await readHistoryFile(fileURLToPath(new URL('./sample-history.jsonl', import.meta.url)));
const ingest = await writer.ingest('maya', history);
console.log(`instance A stored maya: ${ingest.inserted} new, ${ingest.unchanged} unchanged.`);

const reader = createPersonalizer({ store: instanceB, budget: 200 });
const { persona, usage } = await reader.personalize({
  userId: 'maya',
  prompt: 'What should I cook tonight?',
});
console.log(persona.text);
console.log(`instance B: ${usage.personaTokens} persona tokens from ${usage.historyItems} items.`);

const report = await reader.forget('maya');
console.log(
  `Forgot maya: ${report.itemsDeleted} items, ${JSON.stringify(report.otherDeleted)}, verified ${report.verified}.`,
);
await writer.dispose();
await reader.dispose();
await instanceA.close();
await instanceB.close();
