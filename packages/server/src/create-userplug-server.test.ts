import { once } from 'node:events';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createHashingEncoder,
  createMemoryStore,
  type Encoder,
  StoreError,
  type UserplugStore,
} from '@userplug/core';
import { describe, expect, it } from 'vitest';
import {
  neutralItems,
  type ResponseJson,
  snapshotStore,
  startTestServer,
} from '../test-support/test-server.js';
import { tenantUserId } from './scope-store-to-tenant.js';

describe('createUserplugServer: the API', () => {
  it('ingests, lists in pages, personalizes, deletes an item and forgets a user', async () => {
    const { request, keyFor, store } = await startTestServer();
    const key = await keyFor('acme');
    const items = neutralItems(25);

    const ingest = await request('POST', '/v1/users/maya/items', { key, body: { items } });
    expect(ingest.status).toBe(200);
    expect(ingest.json).toMatchObject({
      userId: 'maya',
      received: 25,
      inserted: 25,
      updated: 0,
      unchanged: 0,
    });
    // Idempotent per item id: the same batch again changes nothing, one changed item is an update.
    const again = await request('POST', '/v1/users/maya/items', {
      key,
      body: { items: [...items.slice(0, 24), { ...items[24], text: 'Changed: now into road cycling' }] },
    });
    expect(again.json).toMatchObject({ received: 25, inserted: 0, updated: 1, unchanged: 24 });
    // Stored under the tenant, never under the bare id.
    expect(await store.countItems(tenantUserId('acme', 'maya'))).toBe(25);
    expect(await store.countItems('maya')).toBe(0);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await request(
        'GET',
        `/v1/users/maya/items?limit=10${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        { key },
      );
      expect(page.status).toBe(200);
      seen.push(...page.json.items.map((item: { id: string }) => item.id));
      cursor = page.json.nextCursor;
      pages++;
    } while (cursor !== null);
    expect(pages).toBe(3);
    expect(seen).toEqual(items.map((item) => item.id));
    const first = await request('GET', '/v1/users/maya/items?limit=1', { key });
    expect(first.json.items[0]).toEqual({
      id: 'item-0',
      text: items[0]!.text,
      kind: 'post',
      timestamp: items[0]!.timestamp,
    });

    const personalized = await request('POST', '/v1/users/maya/personalize', {
      key,
      body: { prompt: 'Which ridge trail should I hike at sunrise?', budget: 120, maxAttributions: 5 },
    });
    expect(personalized.status).toBe(200);
    expect(personalized.json.usage).toMatchObject({ historyItems: 25, budget: 120 });
    expect(personalized.json.usage.personaTokens).toBeLessThanOrEqual(120);
    expect(personalized.json.persona.attributions).toHaveLength(5);
    expect(personalized.json.messages[0].role).toBe('system');
    expect(personalized.json.prompt).toBe(
      `${personalized.json.messages[0].content}\n\nWhich ridge trail should I hike at sunrise?`,
    );
    // The hiking items (every sixth) draw the most attention.
    const topItem = Number(personalized.json.persona.attributions[0].itemId.split('-')[1]);
    expect(topItem % 6).toBe(1);

    expect((await request('DELETE', '/v1/users/maya/items/item-3', { key })).json).toEqual({
      userId: 'maya',
      itemId: 'item-3',
      deleted: true,
    });
    const gone = await request('DELETE', '/v1/users/maya/items/item-3', { key });
    expect(gone.status).toBe(404);
    expect(gone.json.error.type).toBe('not-found');

    const forget = await request('DELETE', '/v1/users/maya', { key });
    expect(forget.status).toBe(200);
    expect(forget.json).toMatchObject({ userId: 'maya', itemsDeleted: 24, verified: true });
    expect(await store.listUserIds()).toEqual([]);
    for (const [method, url] of [
      ['GET', '/v1/users/maya/items'],
      ['DELETE', '/v1/users/maya'],
    ] as const) {
      expect((await request(method, url, { key })).status).toBe(404);
    }
    const missing = await request('POST', '/v1/users/maya/personalize', { key, body: { prompt: 'Hi' } });
    expect(missing.status).toBe(404);
    expect(missing.json.error.message).toContain('"maya" not found');
  });

  it('keeps unicode user ids exact and refuses ids that are not text', async () => {
    const { request, keyFor, store } = await startTestServer();
    const key = await keyFor('acme');
    const composed = 'Zoë 山田 🚲';
    const decomposed = composed.normalize('NFD');
    for (const userId of [composed, decomposed, 'ماريا', '../../etc/passwd', 'a/b']) {
      const response = await request('POST', `/v1/users/${encodeURIComponent(userId)}/items`, {
        key,
        body: { items: neutralItems(2, 'u') },
      });
      expect(response.status, userId).toBe(200);
      expect(response.json.userId).toBe(userId);
    }
    // NFC and NFD spellings are two users, compared code point by code point.
    expect((await store.listUserIds()).sort()).toEqual(
      [composed, decomposed, 'ماريا', '../../etc/passwd', 'a/b'].map((id) => tenantUserId('acme', id)).sort(),
    );
    const before = await snapshotStore(store);
    for (const path of ['%00evil', 'a%0Ab', '%ED%A0%80', 'x'.repeat(257)]) {
      const response = await request('GET', `/v1/users/${path}/items`, { key });
      expect(response.status, path).toBe(400);
      expect(response.json.error.type).toBe('invalid-request');
    }
    // Dot segments (plain or encoded) are resolved by URL parsing: they match no route, and never another tenant.
    for (const path of ['/v1/users/../../tenant/other/items', '/v1/users/%2E%2E/items']) {
      expect((await request('GET', path, { key })).status, path).toBe(404);
    }
    expect(await snapshotStore(store)).toEqual(before);
  });

  it('answers bad requests with their 4xx and a JSON error, and stores nothing of them', async () => {
    const { request, keyFor, keys, store, server } = await startTestServer({
      bodyLimit: 64 * 1024,
      maxItemsPerRequest: 500,
    });
    const key = await keyFor('acme');
    await request('POST', '/v1/users/maya/items', { key, body: { items: neutralItems(5) } });
    const before = await snapshotStore(store);

    const bad = [...neutralItems(4, 'new'), { id: 'new-4', text: '   ' }, ...neutralItems(3, 'late')];
    const invalid = await request('POST', '/v1/users/maya/items', { key, body: { items: bad } });
    expect(invalid.status).toBe(400);
    expect(invalid.json.error).toMatchObject({
      type: 'invalid-history',
      itemIndex: 4,
      itemId: 'new-4',
      field: 'text',
    });

    const wrongType = await request('POST', '/v1/users/maya/items', {
      key,
      body: { items: [{ id: 'x', text: 'fine', rating: 'five' }] },
    });
    expect(wrongType.json.error).toMatchObject({ type: 'invalid-history', itemIndex: 0, field: 'rating' });

    const cases: {
      name: string;
      status: number;
      type: string;
      response: Promise<{ status: number; json: ResponseJson }>;
    }[] = [
      {
        name: 'malformed JSON',
        status: 400,
        type: 'invalid-request',
        response: request('POST', '/v1/users/maya/items', { key, body: '{"items": [' }),
      },
      {
        name: 'items not an array',
        status: 400,
        type: 'invalid-request',
        response: request('POST', '/v1/users/maya/items', { key, body: { items: 'all of them' } }),
      },
      {
        name: 'prototype pollution',
        status: 400,
        type: 'invalid-request',
        response: request('POST', '/v1/users/maya/items', { key, body: '{"__proto__": {"items": []}}' }),
      },
      {
        name: 'prompt of the wrong type',
        status: 400,
        type: 'invalid-request',
        response: request('POST', '/v1/users/maya/personalize', { key, body: { prompt: 42 } }),
      },
      {
        name: 'negative budget',
        status: 400,
        type: 'invalid-request',
        response: request('POST', '/v1/users/maya/personalize', { key, body: { prompt: 'Hi', budget: -1 } }),
      },
      {
        name: 'a body over the limit',
        status: 413,
        type: 'payload-too-large',
        response: request('POST', '/v1/users/maya/items', {
          key,
          body: { items: [{ id: 'huge', text: 'word '.repeat(20_000) }] },
        }),
      },
      {
        name: 'more items than one request may hold',
        status: 413,
        type: 'payload-too-large',
        response: request('POST', '/v1/users/maya/items', {
          key,
          body: { items: Array.from({ length: 10_000 }, (_, index) => ({ id: index })) },
        }),
      },
      {
        name: 'not JSON',
        status: 415,
        type: 'unsupported-media-type',
        response: request('POST', '/v1/users/maya/items', {
          key,
          body: 'items',
          headers: { 'content-type': 'text/plain' },
        }),
      },
      {
        name: 'a bad cursor',
        status: 400,
        type: 'invalid-request',
        response: request('GET', '/v1/users/maya/items?cursor=nonsense', { key }),
      },
      { name: 'no key', status: 401, type: 'unauthorized', response: request('GET', '/v1/users/maya/items') },
      {
        name: 'not a bearer header',
        status: 401,
        type: 'unauthorized',
        response: request('GET', '/v1/users/maya/items', { headers: { authorization: `Basic ${key}` } }),
      },
      {
        name: 'a made-up key',
        status: 401,
        type: 'unauthorized',
        response: request('GET', '/v1/users/maya/items', { key: `${key.slice(0, -4)}AAAA` }),
      },
      {
        name: 'an unknown route',
        status: 404,
        type: 'not-found',
        response: request('GET', '/v2/users', { key }),
      },
    ];
    for (const { name, status, type, response } of cases) {
      const answer = await response;
      expect(answer.status, name).toBe(status);
      expect(answer.json.error.type, name).toBe(type);
      expect(answer.json.error.message.length, name).toBeGreaterThan(10);
    }

    const revoked = await keyFor('acme');
    const { record } = await keys.createKey({ tenant: 'acme' });
    expect((await request('GET', '/v1/users/maya/items', { key: revoked })).status).toBe(200);
    await keys.revokeKey(
      (await keys.listKeys()).find((entry) => entry.id !== record.id && revoked.includes(entry.id))!.id,
    );
    const refused = await request('POST', '/v1/users/maya/items', {
      key: revoked,
      body: { items: neutralItems(1, 'r') },
    });
    expect(refused.status).toBe(401);
    expect(refused.json.error.message).toContain('was revoked');

    expect(await snapshotStore(store)).toEqual(before);
    await server.close();
  });

  it('limits each key on its own: 429 with retry-after, refilled as the clock moves', async () => {
    let clock = 1_000_000;
    const { request, keyFor } = await startTestServer({
      rateLimit: { requestsPerSecond: 2, burst: 3 },
      now: () => clock,
    });
    const busy = await keyFor('acme');
    const other = await keyFor('acme');
    await request('POST', '/v1/users/maya/items', { key: busy, body: { items: neutralItems(2) } });
    const statuses = [];
    for (let call = 0; call < 3; call++)
      statuses.push((await request('GET', '/v1/users/maya/items', { key: busy })).status);
    expect(statuses).toEqual([200, 200, 429]);
    const limited = await request('GET', '/v1/users/maya/items', { key: busy });
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('1');
    expect(limited.json.error.type).toBe('rate-limited');
    expect((await request('GET', '/v1/users/maya/items', { key: other })).status).toBe(200);
    clock += 500;
    expect((await request('GET', '/v1/users/maya/items', { key: busy })).status).toBe(200);
    expect((await request('GET', '/v1/users/maya/items', { key: busy })).status).toBe(429);
  });

  it('logs one JSON line per request, with neither keys nor history text', async () => {
    const { request, keyFor, lines, server } = await startTestServer();
    const key = await keyFor('acme');
    const secretText = 'My allergy to penicillin is a private detail';
    let requests = 0;
    const send = async (...args: Parameters<typeof request>) => {
      requests++;
      return request(...args);
    };
    await send('POST', '/v1/users/maya/items', { key, body: { items: [{ id: 'a', text: secretText }] } });
    await send('POST', '/v1/users/maya/items', { key, body: { items: [{ id: 'b', text: '' }] } });
    await send('POST', '/v1/users/maya/personalize', { key, body: { prompt: 'What about penicillin?' } });
    await send('GET', '/v1/users/maya/items', { key });
    await send('GET', '/v1/users/maya/items', { key: `${key}x` });
    await send('GET', '/metrics');
    await send('GET', '/nowhere');
    const records = lines.map((line) => JSON.parse(line));
    expect(records).toHaveLength(requests);
    expect(records.map((record) => record.status)).toEqual([200, 400, 200, 200, 401, 200, 404]);
    expect(records[0]).toMatchObject({
      msg: 'request',
      method: 'POST',
      route: '/v1/users/:userId/items',
      tenant: 'acme',
    });
    expect(records[1].errorType).toBe('invalid-history');
    const all = lines.join('\n');
    // The secret is base64url and may itself hold underscores: everything after `upk_<id>_`.
    const secret = key.split('_').slice(2).join('_');
    expect(secret.length).toBeGreaterThan(40);
    for (const forbidden of [key, secret, 'penicillin', 'allergy']) expect(all).not.toContain(forbidden);
    await server.close();
  });

  it('answers an unexpected failure with a 500 that tells nothing, and logs it on the request’s line', async () => {
    const memory = createMemoryStore();
    const store: UserplugStore = {
      ...memory,
      id: memory.id,
      async countItems() {
        throw new TypeError('a bug in a store');
      },
    };
    const { request, keyFor, lines } = await startTestServer({ store });
    const key = await keyFor('acme');
    const answer = await request('POST', '/v1/users/maya/personalize', { key, body: { prompt: 'Hi' } });
    expect(answer.status).toBe(500);
    expect(answer.json.error.type).toBe('internal');
    expect(answer.json.error.message).not.toContain('a bug');
    expect(lines).toHaveLength(1);
    const record = JSON.parse(lines[0]!);
    expect(record).toMatchObject({ status: 500, errorType: 'internal', error: { name: 'TypeError' } });
    expect(record.error.stack).toContain('a bug in a store');
  });

  it('serves Prometheus metrics and an OpenAPI 3.1 document of every route', async () => {
    const { request, keyFor } = await startTestServer();
    const key = await keyFor('acme');
    await request('POST', '/v1/users/maya/items', { key, body: { items: neutralItems(3) } });
    await request('POST', '/v1/users/maya/personalize', { key, body: { prompt: 'Plan my weekend' } });
    const metrics = await request('GET', '/metrics');
    expect(metrics.headers['content-type']).toContain('text/plain');
    expect(metrics.text).toContain(
      'userplug_http_requests_total{method="POST",route="/v1/users/:userId/items",status="200"} 1',
    );
    expect(metrics.text).toContain(
      'userplug_http_request_duration_seconds_count{method="POST",route="/v1/users/:userId/personalize"} 1',
    );
    expect(metrics.text).toContain('userplug_ingested_items_total{outcome="inserted"} 3');
    expect(metrics.text).toMatch(/userplug_encoder_queue 0/);
    expect(metrics.text).toMatch(/process_resident_memory_bytes \d+/);

    const { json: document } = await request('GET', '/openapi.json');
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths).sort()).toEqual([
      '/healthz',
      '/readyz',
      '/v1/users/{userId}',
      '/v1/users/{userId}/items',
      '/v1/users/{userId}/items/{itemId}',
      '/v1/users/{userId}/personalize',
    ]);
    const personalize = document.paths['/v1/users/{userId}/personalize'].post;
    expect(personalize.security).toEqual([{ apiKey: [] }]);
    expect(Object.keys(personalize.responses).sort()).toEqual([
      '200',
      '400',
      '401',
      '404',
      '413',
      '429',
      '503',
    ]);
    expect(personalize.requestBody.content['application/json'].schema.required).toEqual(['prompt']);
    expect(
      document.paths['/v1/users/{userId}/items'].post.requestBody.content['application/json'].schema
        .properties.items.maxItems,
    ).toBe(1000);
    expect(document.components.securitySchemes.apiKey).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('is not ready (503) while the encoder loads or the store is unreachable', async () => {
    let release: (encoder: Encoder) => void = () => {};
    const loading = new Promise<Encoder>((resolve) => {
      release = resolve;
    });
    let reachable = true;
    const memory = createMemoryStore();
    const store: UserplugStore = {
      ...memory,
      id: memory.id,
      async countItems(userId) {
        if (!reachable) {
          throw new StoreError(
            'Cannot reach the database.',
            { userId },
            { cause: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }) },
          );
        }
        return memory.countItems(userId);
      },
    };
    const { request, keyFor, server } = await startTestServer({ encoder: loading, store });
    const key = await keyFor('acme');
    const starting = await request('GET', '/readyz');
    expect(starting.status).toBe(503);
    expect(starting.json.checks).toEqual({ store: true, encoder: false, draining: false });
    const early = await request('GET', '/v1/users/maya/items', { key });
    expect(early.status).toBe(503);
    expect(early.headers['retry-after']).toBe('1');
    expect((await request('GET', '/healthz')).json).toEqual({ status: 'ok' });

    release(createHashingEncoder({ dim: 64 }));
    await server.ready();
    expect((await request('GET', '/readyz')).status).toBe(200);
    await request('POST', '/v1/users/maya/items', { key, body: { items: neutralItems(2) } });

    reachable = false;
    const down = await request('GET', '/readyz');
    expect(down.status).toBe(503);
    expect(down.json.checks.store).toBe(false);
    const failing = await request('POST', '/v1/users/maya/personalize', { key, body: { prompt: 'Hi' } });
    expect(failing.status).toBe(503);
    expect(failing.json.error.type).toBe('unavailable');
    reachable = true;
    expect(
      (await request('POST', '/v1/users/maya/personalize', { key, body: { prompt: 'Hi' } })).status,
    ).toBe(200);
  });

  it('drains on close: requests in flight finish and are kept, new ones get 503', async () => {
    const hashing = createHashingEncoder({ dim: 64 });
    let gate: () => void = () => {};
    let blocked = false;
    let entered: () => void = () => {};
    const inEncoder = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const encoder: Encoder = {
      id: hashing.id,
      dim: hashing.dim,
      async encode(texts) {
        if (blocked) {
          entered();
          await new Promise<void>((resolve) => {
            gate = resolve;
          });
        }
        return hashing.encode(texts);
      },
      dispose() {},
    };
    const { server, keyFor, store } = await startTestServer({ encoder });
    const key = await keyFor('acme');
    const url = await server.listen({ port: 0 });
    const post = (userId: string) =>
      fetch(`${url}/v1/users/${userId}/items`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ items: neutralItems(3, userId) }),
      });
    await server.ready();
    blocked = true;
    const inFlight = post('first');
    await inEncoder;
    const closing = server.close();
    const refused = await post('second');
    expect(refused.status).toBe(503);
    expect(refused.headers.get('connection')).toBe('close');
    expect(((await refused.json()) as { error: { type: string } }).error.type).toBe('unavailable');
    gate();
    const acknowledged = await inFlight;
    expect(acknowledged.status).toBe(200);
    // Its keep-alive socket closes too: a client reusing it would hold close() open.
    expect(acknowledged.headers.get('connection')).toBe('close');
    await closing;
    expect(await store.countItems(tenantUserId('acme', 'first'))).toBe(3);
    expect(await store.countItems(tenantUserId('acme', 'second'))).toBe(0);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });

  it('mounts in a plain node:http server through its handler', async () => {
    const { server, keyFor } = await startTestServer();
    const key = await keyFor('acme');
    const http = createServer(server.handler);
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    try {
      const ingest = await fetch(`${base}/v1/users/maya/items`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ items: neutralItems(2) }),
      });
      expect(ingest.status).toBe(200);
      // A client that sends dot segments as they are: the router hands them over as the id, which is refused.
      const raw = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const call = httpRequest(
          {
            host: '127.0.0.1',
            port: (http.address() as AddressInfo).port,
            path: '/v1/users/%2E%2E/items',
            headers: { authorization: `Bearer ${key}` },
          },
          (response) => {
            let body = '';
            response.on('data', (chunk) => (body += chunk));
            response.on('end', () => resolve({ status: response.statusCode!, body }));
          },
        );
        call.on('error', reject);
        call.end();
      });
      expect(raw.status).toBe(400);
      expect(JSON.parse(raw.body).error.message).toContain('not "." or ".."');
      const page = await fetch(`${base}/inspect`);
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(await page.text()).toContain('<title>userplug inspector</title>');
    } finally {
      http.close();
      await server.close();
    }
  });
});
