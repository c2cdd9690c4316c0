import { createHashingEncoder } from '@userplug/core';
import { createPostgresStore } from '@userplug/store-postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { startPostgresCluster } from '../../../test/support/postgres-cluster.js';
import { neutralItems, startTestServer } from '../test-support/test-server.js';
import { createKeyStore } from './create-key-store.js';
import { tenantUserId } from './scope-store-to-tenant.js';

// Its own cluster, never the suite's shared one: these tests stop and start the server.
const cluster = startPostgresCluster();
if ('reason' in cluster) console.warn(`@userplug/server PostgreSQL tests skipped: ${cluster.reason}`);
afterAll(() => {
  if (cluster.url) cluster.remove();
});

const sleep = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));
let schemas = 0;
const openStore = (schema: string) =>
  createPostgresStore({ connectionString: cluster.url!, schema, maxConnections: 4 });

describe.skipIf(!cluster.url)('the service on PostgreSQL', () => {
  it('is one service across processes: a write through one instance is read through another', async () => {
    const schema = `server_${++schemas}`;
    const keys = createKeyStore({ scryptCost: 1024 });
    const encoder = createHashingEncoder({ dim: 64 });
    const first = await startTestServer({ store: openStore(schema), keys, encoder });
    const second = await startTestServer({ store: openStore(schema), keys, encoder });
    const key = await first.keyFor('acme');
    try {
      await first.request('POST', '/v1/users/maya/items', { key, body: { items: neutralItems(12) } });
      const prompt = { prompt: 'Which coffee gear did I buy?' };
      const read = await second.request('POST', '/v1/users/maya/personalize', { key, body: prompt });
      expect(read.status).toBe(200);
      expect(read.json.usage.historyItems).toBe(12);
      // The second instance cached its index; a new write through the first changes the revision it checks.
      await first.request('POST', '/v1/users/maya/items', { key, body: { items: neutralItems(3, 'more') } });
      const again = await second.request('POST', '/v1/users/maya/personalize', { key, body: prompt });
      expect(again.json.usage.historyItems).toBe(15);
      expect((await second.request('DELETE', '/v1/users/maya', { key })).json.itemsDeleted).toBe(15);
      expect((await first.request('GET', '/v1/users/maya/items', { key })).status).toBe(404);
    } finally {
      await first.server.close();
      await second.server.close();
      await first.store.close();
      await second.store.close();
    }
  });

  it('answers 503 while PostgreSQL is down and recovers after, losing no acknowledged write', async () => {
    const store = openStore(`server_${++schemas}`);
    const { request, keyFor, server, lines } = await startTestServer({
      store,
      encoder: createHashingEncoder({ dim: 64 }),
    });
    const key = await keyFor('acme');
    await request('POST', '/v1/users/reader/items', { key, body: { items: neutralItems(40) } });

    type Phase = 'up' | 'down' | 'restarted';
    type Kind = 'write' | 'read';
    const answers: { status: number; phase: Phase; kind: Kind }[] = [];
    const acknowledged = new Map<string, number[]>();
    let phase: Phase = 'up';
    let running = true;
    // By when the answer came: pg_ctl blocks this process, so an answer while 'down' was made with the server stopped.
    const answered = (when: Phase, kind: Kind, status: number) =>
      answers.filter((answer) => answer.phase === when && answer.kind === kind && answer.status === status)
        .length;
    const writer = async (user: string) => {
      const batches: number[] = [];
      acknowledged.set(user, batches);
      for (let batch = 0; running; batch++) {
        const answer = await request('POST', `/v1/users/${user}/items`, {
          key,
          body: { items: neutralItems(10, `${user}-b${batch}`) },
        });
        answers.push({ status: answer.status, phase, kind: 'write' });
        if (answer.status === 200) batches.push(batch);
        else await sleep(20);
      }
    };
    const reader = async () => {
      while (running) {
        const answer = await request('POST', '/v1/users/reader/personalize', {
          key,
          body: { prompt: 'Plan a quiet weekend' },
        });
        answers.push({ status: answer.status, phase, kind: 'read' });
        if (answer.status !== 200) await sleep(20);
      }
    };
    const load = Promise.all([writer('w1'), writer('w2'), writer('w3'), reader(), reader()]);
    try {
      while (answered('up', 'write', 200) < 10) await sleep(20);
      if (!cluster.url) throw new Error('unreachable: the describe block skips without a cluster');
      cluster.stopServer();
      phase = 'down';
      const downSince = Date.now();
      while (answered('down', 'write', 503) < 3 || answered('down', 'read', 503) < 2) {
        expect(Date.now() - downSince).toBeLessThan(20_000);
        await sleep(20);
      }
      const readiness = await request('GET', '/readyz');
      expect(readiness.status).toBe(503);
      expect(readiness.json.checks.store).toBe(false);
      cluster.startServer();
      phase = 'restarted';
      const upSince = Date.now();
      while (answered('restarted', 'write', 200) < 6 || answered('restarted', 'read', 200) < 2) {
        expect(Date.now() - upSince).toBeLessThan(30_000);
        await sleep(20);
      }
    } finally {
      running = false;
      await load;
    }
    // 503 while down, never a 500; a request that met a connection the stop cut gets 503 too.
    const failures = lines.filter((line) => line.includes('"errorType":"internal"'));
    expect(failures).toEqual([]);
    expect(new Set(answers.map((answer) => answer.status))).toEqual(new Set([200, 503]));
    expect((await request('GET', '/readyz')).status).toBe(200);
    for (const [user, batches] of acknowledged) {
      const stored = new Map<string, number>();
      for (const item of await store.listItems(tenantUserId('acme', user))) {
        const batch = /-(b\d+)-/.exec(item.id)![1]!;
        stored.set(batch, (stored.get(batch) ?? 0) + 1);
      }
      // Every acknowledged batch whole; any other (its answer lost with the connection) whole or absent.
      for (const batch of batches) expect(stored.get(`b${batch}`), `${user} batch ${batch}`).toBe(10);
      for (const [batch, count] of stored) expect(count, `${user} ${batch}`).toBe(10);
    }
    await server.close();
    await store.close();
  });
});
