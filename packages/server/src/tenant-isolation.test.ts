import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { neutralItems, snapshotStore, startTestServer } from '../test-support/test-server.js';

describe('tenant isolation (property)', () => {
  it("a key never reads, changes or learns of another tenant's users: they answer 404 like users that do not exist", async () => {
    const { request, keyFor, keys, store } = await startTestServer();
    const keyOf = { acme: await keyFor('acme'), globex: await keyFor('globex') };
    const revoked = await keys.createKey({ tenant: 'acme' });
    await keys.revokeKey(revoked.record.id);
    const bUsers = ['bob', 'zoë', '../acme/bob', 'tenant/acme/bob'];
    for (const userId of bUsers) {
      await request('POST', `/v1/users/${encodeURIComponent(userId)}/items`, {
        key: keyOf.globex,
        body: { items: neutralItems(3, 'b') },
      });
    }
    const routes = [
      { method: 'GET', path: (user: string) => `/v1/users/${user}/items` },
      {
        method: 'POST',
        path: (user: string) => `/v1/users/${user}/personalize`,
        body: { prompt: 'Plan my weekend' },
      },
      { method: 'DELETE', path: (user: string) => `/v1/users/${user}` },
      { method: 'DELETE', path: (user: string) => `/v1/users/${user}/items/b-1` },
    ] as const;

    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...bUsers),
        fc.constantFrom(...routes),
        fc.constantFrom('acme', 'missing', 'revoked', 'garbage', 'forged'),
        fc.string({ minLength: 1, maxLength: 8 }),
        async (userId, route, credential, noise) => {
          const before = await snapshotStore(store);
          const key =
            credential === 'acme'
              ? keyOf.acme
              : credential === 'revoked'
                ? revoked.key
                : credential === 'garbage'
                  ? noise
                  : credential === 'forged'
                    ? // Another tenant's key id with a made-up secret.
                      `${keyOf.globex.slice(0, 21)}${'x'.repeat(43)}`
                    : undefined;
          const path = route.path(encodeURIComponent(userId));
          const answer = await request(route.method, path, {
            ...(key === undefined ? {} : { key }),
            ...('body' in route ? { body: route.body } : {}),
          });
          if (credential === 'acme') {
            // Exactly what a user that never existed answers.
            const never = await request(route.method, route.path('never-existed'), {
              key: keyOf.acme,
              ...('body' in route ? { body: route.body } : {}),
            });
            expect(answer.status).toBe(404);
            expect(never.status).toBe(404);
            expect(answer.json.error.type).toBe(never.json.error.type);
            expect(answer.json.error.message.replaceAll(JSON.stringify(userId), '"U"')).toBe(
              never.json.error.message.replaceAll('"never-existed"', '"U"'),
            );
          } else {
            expect(answer.status).toBe(401);
          }
          expect(answer.text).not.toContain('globex');
          expect(await snapshotStore(store)).toEqual(before);
        },
      ),
      { numRuns: 150 },
    );

    // Writes through tenant A land in A's own namespace, whatever the id.
    for (const userId of bUsers) {
      const write = await request('POST', `/v1/users/${encodeURIComponent(userId)}/items`, {
        key: keyOf.acme,
        body: { items: neutralItems(1, 'a') },
      });
      expect(write.json).toMatchObject({ userId, inserted: 1 });
    }
    for (const userId of bUsers) {
      const page = await request('GET', `/v1/users/${encodeURIComponent(userId)}/items`, {
        key: keyOf.globex,
      });
      expect(page.json.items.map((item: { id: string }) => item.id)).toEqual(['b-0', 'b-1', 'b-2']);
    }
  });
});
