// Mount the userplug HTTP service under /userplug in your own node:http server, then call it as any client would.
// Run: node --conditions=@userplug/source --import tsx examples/server.ts
// (From the shell instead: `userplug keys create --tenant demo` then `userplug serve`.)
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  createMemoryStore,
  type ForgetReport,
  type IngestResult,
  type PersonalizeResultJson,
  readHistoryFile,
} from '@userplug/core';
import { createKeyStore, createUserplugServer } from '@userplug/server';

const keys = createKeyStore(); // in memory; `createKeyStore({ path })` shares the file of `userplug keys`
const { key } = await keys.createKey({ tenant: 'demo' });
const store = createMemoryStore(); // or createSqliteStore / createPostgresStore
const service = createUserplugServer({ store, keys, log: false });

const app = createServer((request, response) => {
  if (request.url?.startsWith('/userplug/')) {
    request.url = request.url.slice('/userplug'.length);
    service.handler(request, response);
    return;
  }
  response.end('The rest of your app.\n');
});
app.listen(0, '127.0.0.1');
await new Promise((resolve) => app.once('listening', resolve));
const base = `http://127.0.0.1:${(app.address() as AddressInfo).port}/userplug`;
await service.ready(); // the encoder is loaded: /readyz answers 200

const call = async <Answer>(method: string, path: string, body?: unknown) => {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Answer };
};

const history = await readHistoryFile(fileURLToPath(new URL('./sample-history.jsonl', import.meta.url)));
const items = [];
for await (const item of history) items.push(item);
const ingest = await call<IngestResult>('POST', '/v1/users/maya/items', { items });
console.log(
  `POST /v1/users/maya/items → ${ingest.status}: ${ingest.body.inserted} items stored, no LLM call.`,
);

const { body: result } = await call<PersonalizeResultJson>('POST', '/v1/users/maya/personalize', {
  prompt: 'What should I cook for my vegan friends tonight?',
  budget: 200,
});
console.log(`\nThe system message to send:\n${result.messages[0]?.content}`);
console.log(
  `\nTop items: ${result.persona.attributions
    .slice(0, 3)
    .map((attribution) => `${attribution.itemId} (${attribution.weight.toFixed(2)})`)
    .join(', ')}; ${result.usage.personaTokens} persona tokens. The page: ${base}/inspect`,
);

const forget = await call<ForgetReport>('DELETE', '/v1/users/maya');
console.log(
  `DELETE /v1/users/maya → ${forget.status}: ${forget.body.itemsDeleted} items erased, verified ${forget.body.verified}.`,
);
await service.close(); // drains: requests in flight finish first
app.close();
