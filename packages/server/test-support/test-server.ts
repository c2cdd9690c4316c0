// A server for tests: in-memory keys (cheap scrypt), the hashing encoder, log lines kept in memory.
import {
  createHashingEncoder,
  createMemoryStore,
  type HistoryItemInput,
  type UserplugStore,
} from '@userplug/core';
import { createKeyStore, createUserplugServer, type UserplugServerSettings } from '../src/index.js';

/** A response body, read field by field in assertions. */
// biome-ignore lint/suspicious/noExplicitAny: tests check the fields they read.
export type ResponseJson = any;

/** A started test server, its keys and what it logged. */
export async function startTestServer(settings: Partial<UserplugServerSettings> = {}) {
  const store: UserplugStore = settings.store ?? createMemoryStore();
  const keys = settings.keys ?? createKeyStore({ scryptCost: 1024 });
  const lines: string[] = [];
  const server = createUserplugServer({
    encoder: createHashingEncoder({ dim: 64 }),
    rateLimit: false,
    log: { destination: { write: (line: string) => lines.push(line) } },
    ...settings,
    store,
    keys,
  });
  const keyFor = async (tenant: string) => (await keys.createKey({ tenant })).key;
  /** Sends one request through Fastify's inject (no socket). */
  const request = async (
    method: 'GET' | 'POST' | 'DELETE',
    url: string,
    options: { key?: string; body?: unknown; headers?: Record<string, string> } = {},
  ) => {
    const headers: Record<string, string> = {};
    if (options.key !== undefined) headers.authorization = `Bearer ${options.key}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    Object.assign(headers, options.headers);
    const response = await server.fastify.inject({
      method,
      url,
      headers,
      ...(options.body === undefined
        ? {}
        : { payload: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }),
    });
    const text = response.body;
    let json: ResponseJson;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.statusCode, headers: response.headers, json, text };
  };
  return { server, store, keys, lines, keyFor, request };
}

/** What a store holds for every user, to check that a request changed nothing. */
export async function snapshotStore(store: UserplugStore) {
  const users: Record<string, { revision: number; items: string[] }> = {};
  for (const userId of (await store.listUserIds()).sort()) {
    const items = await store.listItems(userId);
    users[userId] = {
      revision: await store.getRevision(userId),
      items: items.map((item) => `${item.id}:${item.itemHash}`),
    };
  }
  return users;
}

/** `count` neutral items, `prefix-0` … */
export function neutralItems(count: number, prefix = 'item'): HistoryItemInput[] {
  const topics = [
    'Baked rye sourdough with a longer cold proof',
    'Hiked the ridge trail at sunrise with a friend',
    'Reviewed a quiet lakeside cabin: would book again',
    'Bought a pour-over coffee kit and a hand grinder',
    'Read a science fiction novel about a generation ship',
    'Cooked a vegetarian ramen with miso and charred corn',
  ];
  return Array.from({ length: count }, (_, index) => ({
    id: `${prefix}-${index}`,
    text: `${topics[index % topics.length]} (${prefix} ${index})`,
    kind: ['post', 'review', 'purchase'][index % 3]!,
    timestamp: Date.UTC(2024, 0, 1) + index * 86_400_000,
  }));
}
