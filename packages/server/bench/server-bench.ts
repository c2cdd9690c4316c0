// `npm run bench:server`: the HTTP service under load, with autocannon against `userplug serve` on 127.0.0.1.
// A 10k-item user personalized at concurrency 32 for 30 s; 8 clients ingesting into 8 users at once; a
// 2-minute soak (RSS at the end against RSS after warm-up). Writes evals/results/server-bench.json.
// Options: --encoder use|hashing (default use, the embedded default), --quick (short phases, for trying it out).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { createBenchTexts } from '../../encoder-use/bench/encoder-bench.js';
import { createKeyStore } from '../src/keys.js';
import { startServeProcess } from '../test-support/serve-process.js';
import type { ServerBenchResult, ServerLoadPhase } from './server-bench-table.js';

const resultsPath = fileURLToPath(new URL('../../../evals/results/server-bench.json', import.meta.url));
const quick = process.argv.includes('--quick');
const encoder = process.argv.includes('--encoder')
  ? process.argv[process.argv.indexOf('--encoder') + 1]!
  : 'use';
const phases = quick
  ? { seedItems: 2_000, personalizeSeconds: 8, ingestSeconds: 6, soakSeconds: 20, soakWarmupSeconds: 5 }
  : { seedItems: 10_000, personalizeSeconds: 30, ingestSeconds: 30, soakSeconds: 120, soakWarmupSeconds: 20 };
const log = (line: string) => process.stderr.write(`${line}\n`);
/** Message-sized texts (5 to 12 words), the shape of most history items. */
function benchTexts(count: number): string[] {
  return createBenchTexts(count, 11).map((text, index) => {
    const words = text.split(' ');
    return words.slice(0, Math.min(words.length, 5 + (index % 8))).join(' ');
  });
}

const texts = benchTexts(4_000);
// Each request adds a number, so no prompt repeats and every one is embedded.
const prompts = [
  'Which of my hobbies could I turn into a weekend trip?',
  'What would I like to read on a rainy evening?',
  'Help me plan meals for a busy week',
  'Which gadget should I save up for?',
  'Where could I volunteer near home?',
];

const folder = await mkdtemp(join(tmpdir(), 'userplug-server-bench-'));
const keysPath = join(folder, 'keys.json');
const { key } = await createKeyStore({ path: keysPath }).createKey({ tenant: 'bench' });
const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
const loadAtStart = loadavg();
log(`Starting userplug serve (encoder ${encoder})…`);
const serve = await startServeProcess(
  ['--encoder', encoder, '--store', join(folder, 'userplug.db'), '--keys', keysPath, '--rate-limit', '0'],
  300_000,
);
const pid = serve.child.pid!;

async function residentMegabytes(): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

function items(prefix: string, from: number, count: number) {
  return Array.from({ length: count }, (_, offset) => {
    const index = from + offset;
    return {
      id: `${prefix}-${index}`,
      // Every text new (numbered), so every item is embedded: no embedding cache answers.
      text: `${texts[index % texts.length]!} (${prefix} ${index})`,
      kind: ['post', 'review', 'message', 'purchase'][index % 4]!,
      timestamp: Date.UTC(2023, 0, 1) + index * 3_600_000,
    };
  });
}

function summarize(result: autocannon.Result, itemsPerRequest?: number): ServerLoadPhase {
  const statusCodes: Record<string, number> = {};
  for (const [code, stats] of Object.entries(result.statusCodeStats ?? {}))
    statusCodes[code] = stats?.count ?? 0;
  return {
    connections: result.connections,
    durationSeconds: result.duration,
    requests: result.requests.total,
    requestsPerSecond: result.requests.average,
    ...(itemsPerRequest === undefined
      ? {}
      : { itemsPerRequest, itemsPerSecond: result.requests.average * itemsPerRequest }),
    latencyMilliseconds: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
    },
    statusCodes,
    serverErrors: result['5xx'],
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

let promptCounter = 0;
// Every request a prompt not seen before, so each one embeds its query.
const personalizeLoad = (user: string, connections: number, duration: number) =>
  autocannon({
    url: `${serve.url}/v1/users/${user}/personalize`,
    connections,
    duration,
    timeout: 30,
    requests: [
      {
        method: 'POST',
        headers,
        setupRequest: (request) => ({
          ...request,
          body: JSON.stringify({
            prompt: `${prompts[promptCounter % prompts.length]} (${promptCounter++})`,
            budget: 300,
          }),
        }),
      },
    ],
  });

let ingestUser = 0;
// Each connection is one client writing new items to its own user.
const ingestLoad = (prefix: string, connections: number, duration: number, perRequest: number) =>
  autocannon({
    url: `${serve.url}/v1/users/${prefix}/items`,
    connections,
    duration,
    timeout: 60,
    initialContext: {},
    requests: [
      {
        method: 'POST',
        headers,
        setupRequest: (request, context: { user?: string; sent?: number }) => {
          context.user ??= `${prefix}-${ingestUser++}`;
          const from = context.sent ?? 0;
          context.sent = from + perRequest;
          return {
            ...request,
            path: `/v1/users/${context.user}/items`,
            body: JSON.stringify({ items: items(context.user, from, perRequest) }),
          };
        },
      },
    ],
  });

try {
  log(`Seeding a ${phases.seedItems.toLocaleString('en')}-item user in batches of 1,000…`);
  const seedStarted = performance.now();
  for (let from = 0; from < phases.seedItems; from += 1_000) {
    const response = await fetch(`${serve.url}/v1/users/big/items`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ items: items('big', from, 1_000) }),
    });
    if (!response.ok) throw new Error(`seeding failed: ${response.status} ${await response.text()}`);
  }
  const seedSeconds = (performance.now() - seedStarted) / 1000;
  log(`  ${(phases.seedItems / seedSeconds).toFixed(0)} items/s`);
  // Warm-up: the first call builds the user's index.
  for (let call = 0; call < 5; call++) {
    await fetch(`${serve.url}/v1/users/big/personalize`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ prompt: `Warm up ${call}` }),
    });
  }

  log(
    `personalize on the ${phases.seedItems.toLocaleString('en')}-item user, concurrency 32, ${phases.personalizeSeconds} s…`,
  );
  const personalize = summarize(await personalizeLoad('big', 32, phases.personalizeSeconds));
  log(
    `  ${personalize.requestsPerSecond.toFixed(1)} req/s, p50 ${personalize.latencyMilliseconds.p50} ms, p99 ${personalize.latencyMilliseconds.p99} ms, 5xx ${personalize.serverErrors}`,
  );

  log(`ingest from 8 clients into 8 users, 20 items a request, ${phases.ingestSeconds} s…`);
  const ingest = summarize(await ingestLoad('writer', 8, phases.ingestSeconds, 20), 20);
  log(
    `  ${ingest.itemsPerSecond!.toFixed(0)} items/s, p50 ${ingest.latencyMilliseconds.p50} ms, p99 ${ingest.latencyMilliseconds.p99} ms, 5xx ${ingest.serverErrors}`,
  );

  log(`soak: personalize (8 clients) and ingest (2 clients) together for ${phases.soakSeconds} s…`);
  const samples: { second: number; megabytes: number }[] = [];
  const soakStarted = performance.now();
  const sampler = setInterval(() => {
    void residentMegabytes().then((megabytes) =>
      samples.push({ second: Math.round((performance.now() - soakStarted) / 1000), megabytes }),
    );
  }, 5_000);
  const [soakPersonalize, soakIngest] = await Promise.all([
    personalizeLoad('big', 8, phases.soakSeconds),
    ingestLoad('soak', 2, phases.soakSeconds, 20),
  ]);
  clearInterval(sampler);
  const afterWarmup = samples.find((sample) => sample.second >= phases.soakWarmupSeconds)!;
  const atEnd = await residentMegabytes();
  const soak = {
    durationSeconds: phases.soakSeconds,
    warmupSeconds: phases.soakWarmupSeconds,
    rssAfterWarmupMegabytes: afterWarmup.megabytes,
    rssAtEndMegabytes: atEnd,
    rssRatio: atEnd / afterWarmup.megabytes,
    rssSamples: samples,
    personalize: summarize(soakPersonalize),
    ingest: summarize(soakIngest, 20),
  };
  log(
    `  RSS ${soak.rssAfterWarmupMegabytes.toFixed(0)} MB after warm-up, ${atEnd.toFixed(0)} MB at the end (×${soak.rssRatio.toFixed(2)})`,
  );

  const result: ServerBenchResult = {
    measurement: 'server-load',
    date: new Date().toISOString(),
    quick,
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
      node: process.version,
      loadAverageAtStart: loadAtStart[0]!,
      loadAverageAtEnd: loadavg()[0]!,
      note: 'One shared VM: autocannon and the server share its cores with other work.',
    },
    settings: {
      encoder,
      store: 'sqlite',
      loadGenerator: `autocannon ${autocannonVersion()}`,
      host: '127.0.0.1',
    },
    seed: { items: phases.seedItems, seconds: seedSeconds, itemsPerSecond: phases.seedItems / seedSeconds },
    personalize,
    ingest,
    soak,
    serverErrors:
      personalize.serverErrors +
      ingest.serverErrors +
      soak.personalize.serverErrors +
      soak.ingest.serverErrors,
  };
  if (!quick) await writeFile(resultsPath, `${JSON.stringify(result, null, 2)}\n`);
  log(quick ? 'Quick run: nothing written.' : `Wrote ${resultsPath}`);
} finally {
  serve.child.kill('SIGTERM');
  await serve.exited;
  await rm(folder, { recursive: true, force: true });
}

function autocannonVersion(): string {
  return (createRequire(import.meta.url)('autocannon/package.json') as { version: string }).version;
}
