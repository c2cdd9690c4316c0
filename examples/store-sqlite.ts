// Keep histories in one SQLite file and personalize from it in a later process; then forget a user.
// Run (twice: the second run embeds nothing): node --conditions=@userplug/source --import tsx examples/store-sqlite.ts
import { fileURLToPath } from 'node:url';
import { createPersonalizer, readHistoryFile } from '@userplug/core';
import { createSqliteStore } from '@userplug/store-sqlite';

const store = createSqliteStore({ path: '.userplug/example.db' });
const writer = createPersonalizer({ store });
const history = await readHistoryFile(fileURLToPath(new URL('./sample-history.jsonl', import.meta.url)));
const ingest = await writer.ingest('maya', history);
console.log(
  `maya: ${ingest.inserted} new, ${ingest.unchanged} unchanged, ${ingest.embeddedTexts} texts embedded.`,
);
await writer.ingest('guest', [{ id: 'g1', text: 'Looking for a quiet café to work from on Sundays' }]);

// A new personalizer (another process, another app instance) reads the user from the file.
const reader = createPersonalizer({ store, budget: 200 });
const { persona, usage } = await reader.personalize({
  userId: 'maya',
  prompt: 'Suggest a weekend plan for me',
});
console.log(persona.text);
console.log(
  `${usage.personaTokens} persona tokens from ${usage.historyItems} stored items (revision ${persona.revision}).`,
);

const report = await reader.forget('guest');
console.log(
  `Forgot guest: ${report.itemsDeleted} items, verified ${report.verified}; users left: ${await store.listUserIds()}.`,
);
await writer.dispose();
await reader.dispose();
await store.close();
