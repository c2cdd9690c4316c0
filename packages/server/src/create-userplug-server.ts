import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import fastifySwagger from '@fastify/swagger';
import {
  createPersonalizer,
  type Encoder,
  loadDefaultEncoder,
  type Personalizer,
  type PersonalizerSettings,
  personalizeResultToJson,
  type StoredItem,
  type UserplugStore,
} from '@userplug/core';
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import {
  deleteItemResultSchema,
  errorSchema,
  forgetReportSchema,
  healthSchema,
  ingestBodySchema,
  ingestResultSchema,
  itemParamsSchema,
  itemsPageSchema,
  listItemsQuerySchema,
  personalizeBodySchema,
  personalizeResultSchema,
  readinessSchema,
  userParamsSchema,
} from './api-schemas.js';
import type { KeyStore } from './create-key-store.js';
import { createRateLimiter, type RateLimitSettings } from './create-rate-limiter.js';
import { HttpProblem, toHttpProblem } from './http-problem.js';
import { scopeStoreToTenant } from './scope-store-to-tenant.js';
import { countEncoderCalls, createServerMetrics } from './server-metrics.js';

/** Where and how much the server logs: one JSON line per request (pino), never history text or keys. */
export interface ServerLogSettings {
  /** Lowest level written. Default `info` (one line per request). */
  level?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
  /** Where the lines go. Default standard output. */
  destination?: { write(line: string): unknown };
}

/** Settings of {@link createUserplugServer}. */
export interface UserplugServerSettings {
  /** Where users' items live; tenants' users are kept apart inside it. Stays yours to close. */
  store: UserplugStore;
  /** The API keys, from `createKeyStore`. Every `/v1` request needs one (`Authorization: Bearer KEY`). */
  keys: KeyStore;
  /** Sentence encoder for items and prompts. Default: the embedded default encoder. Stays yours to dispose. */
  encoder?: Encoder | Promise<Encoder>;
  /**
   * Settings of each tenant's personalizer (budget, tokenCounter, trained, …); the store and encoder are the
   * fields above. Default: core's defaults, with an embedding cache of 2,000 texts per tenant.
   */
  personalizer?: Omit<PersonalizerSettings, 'store' | 'encoder' | 'batchSize'>;
  /** Largest request body, in bytes; a larger one gets 413. Default 8 MiB. */
  bodyLimit?: number;
  /** Most items in one ingest request, stored all or nothing; more get 413. Default 1,000. */
  maxItemsPerRequest?: number;
  /** Requests per API key: past it, 429 with `retry-after`. `false`: no limit. Default 50 per second, bursts of 100. */
  rateLimit?: RateLimitSettings | false;
  /** Logging; `false` for none. Default: `info` to standard output. */
  log?: ServerLogSettings | false;
  /** The clock of the rate limit, in milliseconds. Default `Date.now`. */
  now?: () => number;
}

/** A running userplug service. */
export interface UserplugServer {
  /** The Fastify instance: add your own routes or hooks before `listen`, or `inject` requests in tests. */
  readonly fastify: FastifyInstance;
  /** A Node request listener, to mount the service in your own `http.Server` (or under a path of another framework). */
  readonly handler: (request: IncomingMessage, response: ServerResponse) => void;
  /** Listens on a host and port (default 127.0.0.1, 8787; port 0 picks a free one); resolves with the URL. */
  listen(options?: { host?: string; port?: number }): Promise<string>;
  /** Resolves when the encoder is loaded (the server answers 503 on `/v1` and `/readyz` until then). */
  ready(): Promise<void>;
  /**
   * Drains and stops: new requests get 503 at once, requests in flight finish (their writes are acknowledged),
   * then the listener closes. The store and encoder stay open: they are yours.
   */
  close(): Promise<void>;
}

interface Principal {
  tenant: string;
  keyId: string;
}

/** Users' item listings kept for paging, per tenant and user. */
const listingCacheSize = 8;
/** Tenants whose personalizer (index and query caches) is kept. */
const tenantCacheSize = 32;
// Not shared across tenants: whether a text was embedded before would tell one tenant about another's users.
const tenantEmbeddingCacheSize = 2_000;
const readinessProbeUser = 'userplug-readiness-probe';
const readinessTimeoutMs = 2_000;

const packageVersion = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
const asset = (name: string) => readFileSync(new URL(`../assets/${name}`, import.meta.url), 'utf8');

const inspectorHeaders = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

function itemJson(item: StoredItem) {
  return {
    id: item.id,
    text: item.text,
    ...(item.kind === undefined ? {} : { kind: item.kind }),
    ...(item.timestamp === undefined ? {} : { timestamp: item.timestamp }),
    ...(item.rating === undefined ? {} : { rating: item.rating }),
    ...(item.label === undefined ? {} : { label: item.label }),
    ...(item.weight === undefined ? {} : { weight: item.weight }),
    ...(item.meta === undefined ? {} : { meta: item.meta }),
  };
}

function encodeCursor(position: number, lastItemId: string): string {
  return Buffer.from(JSON.stringify([position, lastItemId])).toString('base64url');
}

function decodeCursor(cursor: string): { position: number; lastItemId: string } {
  try {
    const [position, lastItemId] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (Number.isInteger(position) && (position as number) >= 0 && typeof lastItemId === 'string') {
      return { position: position as number, lastItemId };
    }
  } catch {}
  throw new HttpProblem(
    400,
    'invalid-request',
    'query.cursor is not a cursor this server gave: pass the `nextCursor` of the previous page, or leave it out for the first page.',
    { field: 'query.cursor' },
  );
}

function userNotFound(userId: string): HttpProblem {
  return new HttpProblem(
    404,
    'not-found',
    `User ${JSON.stringify(userId)} not found: it has no items. Store its history first with POST /v1/users/{userId}/items.`,
  );
}

function withTimeout<T>(promise: Promise<T>, milliseconds: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took over ${milliseconds} ms`)), milliseconds);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The userplug HTTP service on Fastify: tenant API keys, ingest, list, personalize and forget under `/v1`,
 * `/healthz`, `/readyz`, `/metrics` (Prometheus), `/openapi.json` (OpenAPI 3.1) and the `/inspect` page.
 */
export function createUserplugServer(settings: UserplugServerSettings): UserplugServer {
  const { store, keys } = settings;
  const now = settings.now ?? Date.now;
  const maxItemsPerRequest = settings.maxItemsPerRequest ?? 1_000;
  const rateLimiter =
    settings.rateLimit === false
      ? undefined
      : createRateLimiter(settings.rateLimit ?? { requestsPerSecond: 50, burst: 100 }, now);
  const pendingWork = new Set<Promise<unknown>>();
  const metrics = createServerMetrics(() => pendingWork.size);

  let encoderReady = false;
  let encoderFailure: Error | undefined;
  const encoder: Promise<Encoder> = (async () => {
    const loaded = await (settings.encoder ?? loadDefaultEncoder());
    await loaded.encode(['warm up']);
    return countEncoderCalls(loaded, metrics);
  })();
  const ready = encoder.then(
    () => {
      encoderReady = true;
    },
    (error: Error) => {
      encoderFailure = error;
      throw error;
    },
  );
  ready.catch(() => {});

  const personalizers = new Map<string, Personalizer>();
  function personalizerFor(tenant: string): Personalizer {
    let personalizer = personalizers.get(tenant);
    if (personalizer) {
      personalizers.delete(tenant);
    } else {
      personalizer = createPersonalizer({
        embeddingCacheSize: tenantEmbeddingCacheSize,
        ...settings.personalizer,
        store: scopeStoreToTenant(store, tenant),
        encoder,
        batchSize: maxItemsPerRequest,
      });
      if (personalizers.size >= tenantCacheSize) {
        const [oldest, evicted] = personalizers.entries().next().value!;
        personalizers.delete(oldest);
        void evicted.dispose();
      }
    }
    personalizers.set(tenant, personalizer);
    return personalizer;
  }

  const listings = new Map<string, { revision: number; items: ReturnType<typeof itemJson>[] }>();
  async function listUserItems(tenant: string, userId: string) {
    const scoped = personalizerFor(tenant).store;
    const key = `${tenant}\u0000${userId}`;
    const revision = await scoped.getRevision(userId);
    const cached = listings.get(key);
    if (cached && cached.revision === revision) return cached.items;
    const items = (await scoped.listItems(userId)).map(itemJson);
    listings.delete(key);
    listings.set(key, { revision, items });
    while (listings.size > listingCacheSize) listings.delete(listings.keys().next().value!);
    return items;
  }

  const log = settings.log === false ? undefined : (settings.log ?? {});
  const fastify = Fastify({
    logger:
      log === undefined
        ? false
        : {
            level: log.level ?? 'info',
            ...(log.destination === undefined ? {} : { stream: log.destination }),
          },
    // The onResponse hook writes the one line per request instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => randomUUID(),
    bodyLimit: settings.bodyLimit ?? 8 * 1024 * 1024,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    routerOptions: { maxParamLength: 2048 },
    // A path that does not decode (such as a lone surrogate's bytes) gets the same JSON error as any bad request.
    frameworkErrors(error, _request, reply) {
      (reply as FastifyReply).code(400).send({
        error: {
          type: 'invalid-request',
          message: `${error.message}. Percent-encode ids as UTF-8 (encodeURIComponent).`,
        },
      });
    },
  });
  // Bodies are JSON only: anything else gets 415 instead of reaching validation as a string.
  fastify.removeContentTypeParser('text/plain');
  fastify.setValidatorCompiler(validatorCompiler);
  fastify.setSerializerCompiler(serializerCompiler);

  const principals = new WeakMap<FastifyRequest, Principal>();
  const failures = new WeakMap<FastifyRequest, HttpProblem>();
  // A 500's own error, for its log line: names, codes and the stack, never the request's data.
  const crashes = new WeakMap<FastifyRequest, Error>();
  let draining = false;

  fastify.setErrorHandler((error, request, reply) => {
    const problem = toHttpProblem(error);
    if (problem.status >= 500 && problem.type !== 'unavailable') crashes.set(request, error as Error);
    failures.set(request, problem);
    return reply
      .code(problem.status)
      .headers(problem.headers)
      .send({ error: { type: problem.type, message: problem.message, ...problem.details } });
  });
  fastify.setNotFoundHandler((request, reply) => {
    const problem = new HttpProblem(
      404,
      'not-found',
      `No route ${request.method} ${request.url.split('?')[0]}. The routes are listed at GET /openapi.json.`,
    );
    failures.set(request, problem);
    return reply.code(404).send({ error: { type: problem.type, message: problem.message } });
  });

  fastify.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    if (draining) {
      throw new HttpProblem(
        503,
        'unavailable',
        'The server is shutting down: retry in a moment (another instance may answer).',
        {},
        { 'retry-after': '1' },
      );
    }
  });
  // No answer sent while draining leaves its keep-alive socket open (a request already in flight included):
  // the client would send its next request on it, and close() would wait for that socket forever.
  fastify.addHook('onSend', async (_request, reply) => {
    if (draining) reply.header('connection', 'close');
  });
  fastify.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const status = reply.statusCode;
    metrics.requests.inc({ method: request.method, route, status });
    metrics.requestSeconds.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    const principal = principals.get(request);
    const failure = failures.get(request);
    const crash = crashes.get(request);
    request.log[status >= 500 ? 'error' : 'info'](
      {
        method: request.method,
        route,
        status,
        durationMs: Math.round(reply.elapsedTime * 10) / 10,
        ...(principal ? { tenant: principal.tenant, keyId: principal.keyId } : {}),
        ...(failure ? { errorType: failure.type } : {}),
        ...(crash
          ? {
              error: {
                name: crash.name,
                code: (crash as { code?: unknown }).code,
                stack: crash.stack,
              },
            }
          : {}),
      },
      'request',
    );
  });

  // From its handler's start until its answer is sent, a request's work is pending: close() waits for it.
  const settleWork = new WeakMap<FastifyRequest, () => void>();
  function trackWork(request: FastifyRequest): void {
    const work = new Promise<void>((resolve) => settleWork.set(request, resolve));
    pendingWork.add(work);
    void work.then(() => pendingWork.delete(work));
  }
  function settle(request: FastifyRequest): void {
    settleWork.get(request)?.();
  }

  async function authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) {
      reply.header('www-authenticate', 'Bearer');
      throw new HttpProblem(
        401,
        'unauthorized',
        header === undefined
          ? 'Missing API key: send `Authorization: Bearer KEY` with a key from `userplug keys create --tenant NAME`.'
          : 'The Authorization header must be `Bearer KEY`.',
      );
    }
    let verification: Awaited<ReturnType<KeyStore['verifyKey']>>;
    try {
      verification = await keys.verifyKey(match[1]!);
    } catch (error) {
      request.log.error({ errorName: (error as Error).name }, 'the keys file cannot be read');
      throw new HttpProblem(
        503,
        'unavailable',
        'The server cannot read its API keys; its operator must fix the keys file (see the server log).',
        {},
        { 'retry-after': '5' },
      );
    }
    if (verification.status !== 'valid') {
      reply.header('www-authenticate', 'Bearer error="invalid_token"');
      throw new HttpProblem(
        401,
        'unauthorized',
        verification.status === 'revoked'
          ? `API key ${verification.keyId} was revoked. Ask for a new key (\`userplug keys create --tenant NAME\`).`
          : 'The API key is not valid. Check it, or create one with `userplug keys create --tenant NAME`.',
      );
    }
    principals.set(request, { tenant: verification.tenant, keyId: verification.keyId });
    if (!encoderReady) {
      throw new HttpProblem(
        503,
        'unavailable',
        encoderFailure
          ? 'The server’s encoder failed to load; its operator must fix it (see the server log).'
          : 'The server is starting (loading its encoder): retry in a moment.',
        {},
        { 'retry-after': '1' },
      );
    }
    const decision = rateLimiter?.take(verification.keyId);
    if (decision && !decision.allowed) {
      throw new HttpProblem(
        429,
        'rate-limited',
        `Too many requests with API key ${verification.keyId}: retry in ${decision.retryAfterSeconds} s.`,
        {},
        { 'retry-after': String(decision.retryAfterSeconds) },
      );
    }
  }

  function tenantOf(request: FastifyRequest): string {
    return principals.get(request)!.tenant;
  }

  const errorResponses = {
    400: errorSchema,
    401: errorSchema,
    404: errorSchema,
    413: errorSchema,
    429: errorSchema,
    503: errorSchema,
  };
  const security = [{ apiKey: [] }];

  fastify.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'userplug',
        version: packageVersion,
        description:
          "Plug a user into any LLM: store a user's history, then get a query-aware, budgeted persona for each prompt.",
      },
      components: {
        securitySchemes: {
          apiKey: {
            type: 'http',
            scheme: 'bearer',
            description:
              'An API key from `userplug keys create --tenant NAME`; it reaches its tenant’s users only.',
          },
        },
      },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });

  fastify.register(
    async (v1) => {
      v1.addHook('onRequest', authenticate);
      v1.addHook('preHandler', async (request) => trackWork(request));
      v1.addHook('onSend', async (request) => settle(request));
      const api = v1.withTypeProvider<ZodTypeProvider>();

      api.post(
        '/users/:userId/items',
        {
          schema: {
            operationId: 'ingestItems',
            summary:
              'Store history items of a user (embedding only, no LLM call); idempotent per item id; all or nothing.',
            security,
            params: userParamsSchema,
            body: ingestBodySchema(maxItemsPerRequest),
            response: { 200: ingestResultSchema, ...errorResponses },
          },
        },
        async (request) => {
          const tenant = tenantOf(request);
          const result = await personalizerFor(tenant).ingest(
            request.params.userId,
            request.body.items as never,
          );
          metrics.ingestedItems.inc({ outcome: 'inserted' }, result.inserted);
          metrics.ingestedItems.inc({ outcome: 'updated' }, result.updated);
          metrics.ingestedItems.inc({ outcome: 'unchanged' }, result.unchanged);
          return result;
        },
      );

      api.get(
        '/users/:userId/items',
        {
          schema: {
            operationId: 'listItems',
            summary: "A page of a user's items.",
            security,
            params: userParamsSchema,
            querystring: listItemsQuerySchema,
            response: { 200: itemsPageSchema, ...errorResponses },
          },
        },
        async (request) => {
          const tenant = tenantOf(request);
          const { userId } = request.params;
          const { limit, cursor } = request.query;
          const after = cursor === undefined ? undefined : decodeCursor(cursor);
          const items = await listUserItems(tenant, userId);
          if (items.length === 0) throw userNotFound(userId);
          let start = 0;
          if (after) {
            // By the last id seen, so deleting items between pages skips nothing; by position when it is gone.
            const found = items.findIndex((item) => item.id === after.lastItemId);
            start = found >= 0 ? found + 1 : Math.min(after.position, items.length);
          }
          const page = items.slice(start, start + limit);
          const end = start + page.length;
          return {
            items: page,
            nextCursor: end < items.length ? encodeCursor(end, page[page.length - 1]!.id) : null,
          };
        },
      );

      api.post(
        '/users/:userId/personalize',
        {
          schema: {
            operationId: 'personalize',
            summary:
              'The query-aware persona for a prompt and the messages to send (the same JSON as `userplug personalize --json`).',
            security,
            params: userParamsSchema,
            body: personalizeBodySchema,
            response: { 200: personalizeResultSchema, ...errorResponses },
          },
        },
        async (request) => {
          const tenant = tenantOf(request);
          const { userId } = request.params;
          const { prompt, budget, instruction, maxAttributions } = request.body;
          const personalizer = personalizerFor(tenant);
          if ((await personalizer.store.countItems(userId)) === 0) throw userNotFound(userId);
          const result = await personalizer.personalize({
            userId,
            prompt,
            ...(budget === undefined ? {} : { budget }),
            ...(instruction === undefined ? {} : { instruction }),
            ...(maxAttributions === undefined ? {} : { maxAttributions }),
          });
          return personalizeResultToJson(result);
        },
      );

      api.delete(
        '/users/:userId',
        {
          schema: {
            operationId: 'forgetUser',
            summary: 'Erase everything stored for a user, and verify that nothing is left.',
            security,
            params: userParamsSchema,
            response: { 200: forgetReportSchema, ...errorResponses },
          },
        },
        async (request) => {
          const tenant = tenantOf(request);
          const { userId } = request.params;
          const report = await personalizerFor(tenant).forget(userId);
          const erased =
            report.itemsDeleted + Object.values(report.otherDeleted).reduce((sum, count) => sum + count, 0);
          if (erased === 0) throw userNotFound(userId);
          return report;
        },
      );

      api.delete(
        '/users/:userId/items/:itemId',
        {
          schema: {
            operationId: 'deleteItem',
            summary: 'Delete one item of a user.',
            security,
            params: itemParamsSchema,
            response: { 200: deleteItemResultSchema, ...errorResponses },
          },
        },
        async (request) => {
          const tenant = tenantOf(request);
          const { userId, itemId } = request.params;
          const deleted = await personalizerFor(tenant).deleteItems(userId, [itemId]);
          if (deleted === 0) {
            throw new HttpProblem(
              404,
              'not-found',
              `User ${JSON.stringify(userId)} has no item ${JSON.stringify(itemId)}.`,
            );
          }
          return { userId, itemId, deleted: true as const };
        },
      );
    },
    { prefix: '/v1' },
  );

  fastify.register(async (operations) => {
    const api = operations.withTypeProvider<ZodTypeProvider>();
    api.get(
      '/healthz',
      {
        schema: {
          operationId: 'health',
          summary: 'Liveness: the process answers.',
          response: { 200: healthSchema },
        },
      },
      async () => ({ status: 'ok' as const }),
    );
    api.get(
      '/readyz',
      {
        schema: {
          operationId: 'ready',
          summary: 'Readiness: the store answers and the encoder is loaded.',
          response: { 200: readinessSchema, 503: readinessSchema },
        },
      },
      async (_request, reply) => {
        let storeReachable = true;
        let reason = '';
        try {
          await withTimeout(store.countItems(readinessProbeUser), readinessTimeoutMs, 'the store');
        } catch (error) {
          storeReachable = false;
          reason = `the store is unreachable (${(error as Error).message.split('\n')[0]})`;
        }
        const checks = { store: storeReachable, encoder: encoderReady, draining };
        if (storeReachable && encoderReady) return { status: 'ready' as const, checks };
        if (!encoderReady)
          reason = [reason, encoderFailure ? 'the encoder failed to load' : 'the encoder is loading']
            .filter(Boolean)
            .join('; ');
        return reply.code(503).send({
          status: 'not-ready' as const,
          checks,
          error: { type: 'unavailable', message: `Not ready: ${reason}.` },
        });
      },
    );
    operations.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
      reply.header('content-type', metrics.registry.contentType);
      return metrics.registry.metrics();
    });
    operations.get('/openapi.json', { schema: { hide: true } }, async () => fastify.swagger());
    const page = asset('inspect.html');
    const script = asset('inspect.js');
    const style = asset('inspect.css');
    operations.get('/inspect', { schema: { hide: true } }, async (_request, reply) =>
      reply.headers(inspectorHeaders).type('text/html; charset=utf-8').send(page),
    );
    operations.get('/inspect/app.js', { schema: { hide: true } }, async (_request, reply) =>
      reply.headers(inspectorHeaders).type('text/javascript; charset=utf-8').send(script),
    );
    operations.get('/inspect/style.css', { schema: { hide: true } }, async (_request, reply) =>
      reply.headers(inspectorHeaders).type('text/css; charset=utf-8').send(style),
    );
  });

  return {
    fastify,
    handler(request, response) {
      // Ready on the first request, so routes and hooks can still be added until then.
      Promise.resolve(fastify.ready()).then(
        () => fastify.routing(request, response),
        (error: Error) => {
          response.statusCode = 500;
          response.end(JSON.stringify({ error: { type: 'internal', message: error.message } }));
        },
      );
    },
    async listen(options = {}) {
      return fastify.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 8787 });
    },
    ready: () => ready,
    async close() {
      draining = true;
      while (pendingWork.size > 0) await Promise.allSettled([...pendingWork]);
      await fastify.close();
      for (const personalizer of personalizers.values()) await personalizer.dispose();
      personalizers.clear();
      listings.clear();
    },
  };
}
