import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHashingEncoder } from '@userplug/core';
import { describe, expect, it } from 'vitest';
import { type ServeProcess, startServeProcess } from '../../server/test-support/serve-process.js';
import { startTestServer } from '../../server/test-support/test-server.js';
import { runCliInMemory, temporaryFolder } from '../test-support/run-cli-in-memory.js';

const sampleHistory = fileURLToPath(new URL('../../../examples/sample-history.jsonl', import.meta.url));

/** A temporary folder with a keys file holding one key of tenant acme. */
async function setUp() {
  const folder = await temporaryFolder('userplug-cli-serve-');
  const keys = join(folder, 'keys.json');
  const key = (await runCliInMemory(['keys', 'create', '--tenant', 'acme', '--keys', keys])).stdout.trim();
  return { folder, keys, key, store: join(folder, 'userplug.db') };
}

function batch(user: string, index: number, size: number) {
  return Array.from({ length: size }, (_, position) => ({
    id: `b${index}-i${position}`,
    text: `Batch ${index} item ${position}: walked the canal path and sketched the old mill`,
    timestamp: Date.UTC(2024, 0, 1) + (index * size + position) * 60_000,
    kind: 'post',
    meta: { user },
  }));
}

async function post(url: string, key: string, path: string, body: unknown) {
  const response = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

async function listIds(url: string, key: string, user: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const response = await fetch(
      `${url}/v1/users/${user}/items?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      { headers: { authorization: `Bearer ${key}` } },
    );
    if (response.status === 404) return ids;
    const page = (await response.json()) as { items: { id: string }[]; nextCursor: string | null };
    ids.push(...page.items.map((item) => item.id));
    cursor = page.nextCursor;
  } while (cursor !== null);
  return ids;
}

/** Resolves once the server has logged this many acknowledged requests. */
async function acknowledgedBatches(serve: ServeProcess, count: number) {
  const acknowledged = () =>
    serve.logLines().filter((line) => {
      const record = JSON.parse(line) as { msg?: string; status?: number };
      return record.msg === 'request' && record.status === 200;
    }).length;
  while (acknowledged() < count) await new Promise((resolve) => setTimeout(resolve, 10));
}

/** Each client posts batches to its own user until refused; returns the acknowledged batches. */
function ingestClients(url: string, key: string, clients: number, size: number) {
  return Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      const user = `user-${client}`;
      const acknowledged: number[] = [];
      const refused: string[] = [];
      for (let index = 0; ; index++) {
        try {
          const answer = await post(url, key, `/v1/users/${user}/items`, { items: batch(user, index, size) });
          if (answer.status === 200) acknowledged.push(index);
          else {
            refused.push(String(answer.status));
            break;
          }
        } catch (error) {
          refused.push((error as Error).message);
          break;
        }
      }
      return { user, acknowledged, refused };
    }),
  );
}

/** Every acknowledged batch is there whole; any other batch is there whole or not at all. */
function expectWholeBatches(ids: readonly string[], acknowledged: readonly number[], size: number) {
  const perBatch = new Map<number, number>();
  for (const id of ids) {
    const index = Number(/^b(\d+)-/.exec(id)![1]);
    perBatch.set(index, (perBatch.get(index) ?? 0) + 1);
  }
  for (const index of acknowledged) expect(perBatch.get(index), `batch ${index}`).toBe(size);
  for (const [index, count] of perBatch) expect(count, `batch ${index}`).toBe(size);
}

describe('userplug serve', () => {
  it('answers personalize with exactly the JSON of `userplug personalize --json`', async () => {
    // The service's personalizer in this process, with the encoder `--encoder hashing` picks.
    const { request, keyFor } = await startTestServer({ encoder: createHashingEncoder() });
    const key = await keyFor('acme');
    const items = readFileSync(sampleHistory, 'utf8')
      .split('\n')
      .filter((line) => line.trim().length > 0)
      .map((line) => JSON.parse(line));
    expect((await request('POST', '/v1/users/maya/items', { key, body: { items } })).status).toBe(200);
    const prompt = 'What should I cook after a long trail run?';
    const served = await request('POST', '/v1/users/maya/personalize', { key, body: { prompt } });
    expect(served.status).toBe(200);
    const cli = await runCliInMemory([
      'personalize',
      '--history',
      sampleHistory,
      '--user',
      'maya',
      '--encoder',
      'hashing',
      '--prompt',
      prompt,
      '--json',
    ]);
    expect(cli.code).toBe(0);
    expect(served.json).toEqual(JSON.parse(cli.stdout));
    expect(served.json.persona.attributions.length).toBeGreaterThan(0);
  });

  it('drains on SIGTERM: the process exits 0 and every acknowledged batch is stored', async () => {
    const { results, serve, afterRestart } = await interruptIngest({
      signal: 'SIGTERM',
      clients: 4,
      size: 200,
    });
    expect(await serve.exited).toEqual({ code: 0, signal: null });
    expect(serve.messages()).toContain('SIGTERM: draining');
    expect(serve.messages()).toContain('stopped.');
    // Refused only by the drain (503) or by the closed port, never by a server error.
    for (const { refused } of results)
      for (const reason of refused) expect(reason).toMatch(/^503$|fetch failed/);
    await afterRestart();
  });

  it('loses no acknowledged batch and keeps no partial one when killed with SIGKILL during a large ingest', async () => {
    const { results, serve, afterRestart } = await interruptIngest({
      signal: 'SIGKILL',
      clients: 3,
      size: 1000,
    });
    expect((await serve.exited).signal).toBe('SIGKILL');
    for (const { refused } of results) expect(refused).toEqual(['fetch failed']);
    await afterRestart();
  });
});

/**
 * Clients ingest batches into `userplug serve` until the process gets `signal` (once a few batches are
 * acknowledged). `afterRestart` starts it again on the same store and checks that every acknowledged batch is
 * there whole, and no batch in part.
 */
async function interruptIngest(options: { signal: 'SIGTERM' | 'SIGKILL'; clients: number; size: number }) {
  const { keys, key, store } = await setUp();
  const args = ['--encoder', 'hashing', '--store', store, '--keys', keys];
  const serve = await startServeProcess([...args, '--rate-limit', '0']);
  const clients = ingestClients(serve.url, key, options.clients, options.size);
  await acknowledgedBatches(serve, options.clients + 2);
  serve.child.kill(options.signal);
  const results = await clients;
  const afterRestart = async () => {
    const restarted = await startServeProcess(args);
    try {
      expect(results.reduce((sum, { acknowledged }) => sum + acknowledged.length, 0)).toBeGreaterThanOrEqual(
        options.clients + 2,
      );
      for (const { user, acknowledged } of results) {
        expectWholeBatches(await listIds(restarted.url, key, user), acknowledged, options.size);
      }
    } finally {
      restarted.child.kill('SIGTERM');
      await restarted.exited;
    }
  };
  return { results, serve, afterRestart };
}
