import { z } from 'zod';

// Every route's request and response schemas: Fastify validates with them and /openapi.json is generated from them.

function isUserId(value: string): boolean {
  // Lone surrogates would turn into U+FFFD in UTF-8, making two ids one.
  return (
    Buffer.from(value, 'utf8').toString('utf8') === value &&
    !/[\u0000-\u001f\u007f]/.test(value) &&
    value !== '.' &&
    value !== '..'
  );
}

const userIdSchema = z
  .string()
  .min(1)
  .max(256)
  .refine(isUserId, 'must be well-formed text without control characters, and not "." or ".."')
  .meta({
    description:
      "The user's id within the key's tenant: any text up to 256 characters (percent-encoded in the path), compared exactly.",
  });

export const userParamsSchema = z.object({ userId: userIdSchema });

export const itemParamsSchema = z.object({
  userId: userIdSchema,
  itemId: z.string().min(1).max(512).meta({ description: "The item's id." }),
});

export function ingestBodySchema(maxItems: number) {
  return z.object({
    items: z
      .array(z.unknown())
      .max(maxItems)
      .meta({
        description:
          'History items `{ id, text, kind?, timestamp?, rating?, label?, weight?, speaker?, self?, conversationId?, ' +
          'sessionId?, meta? }` (as `HistoryItemInput` of ' +
          '@userplug/core; `timestamp` in epoch milliseconds or ISO 8601). Validated item by item: the first bad item ' +
          'is answered with 400 naming its index and field, and nothing of the batch is stored.',
      }),
  });
}

export const ingestResultSchema = z
  .object({
    userId: z.string(),
    received: z.number(),
    inserted: z.number(),
    updated: z.number(),
    unchanged: z.number(),
    embeddedTexts: z.number(),
    reusedTexts: z.number(),
    durationMs: z.number(),
  })
  .meta({ description: 'What the ingest did (`IngestResult` of @userplug/core).' });

export const listItemsQuerySchema = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(100)
    .meta({ description: 'Items per page. Default 100.' }),
  cursor: z
    .string()
    .max(1024)
    .optional()
    .meta({ description: 'The `nextCursor` of the previous page; absent for the first page.' }),
});

export const historyItemSchema = z.object({
  id: z.string(),
  text: z.string(),
  kind: z.string().optional(),
  timestamp: z.number().optional().meta({ description: 'Epoch milliseconds.' }),
  rating: z.number().optional(),
  label: z.string().optional(),
  weight: z.number().optional(),
  speaker: z.string().optional(),
  self: z.boolean().optional(),
  conversationId: z.string().optional(),
  sessionId: z.string().optional(),
  meta: z.record(z.string(), z.unknown()).optional(),
});

export const itemsPageSchema = z.object({
  items: z
    .array(historyItemSchema)
    .meta({ description: "The user's items, in the order they were first stored." }),
  nextCursor: z
    .string()
    .nullable()
    .meta({ description: 'Pass as `cursor` for the next page; null on the last page.' }),
});

export const personalizeBodySchema = z.object({
  prompt: z.string().min(1).max(100_000).meta({ description: "The user's prompt." }),
  budget: z
    .number()
    .int()
    .min(0)
    .max(100_000)
    .optional()
    .meta({ description: 'Hard limit on persona tokens (0: no persona). Default: the server’s (300).' }),
  instruction: z.string().max(10_000).optional().meta({
    description: 'Instruction embedded with the prompt, steering which parts of the history matter.',
  }),
  maxAttributions: z
    .number()
    .int()
    .min(1)
    .max(1000)
    .optional()
    .meta({ description: 'Most attributions returned. Default 10.' }),
});

const attributionSchema = z.object({
  itemId: z.string(),
  weight: z.number(),
  influence: z.number().optional(),
});

export const personalizeResultSchema = z
  .object({
    prompt: z.string(),
    messages: z.array(z.object({ role: z.enum(['system', 'user']), content: z.string() })),
    persona: z.object({
      descriptors: z.array(z.object({ phrase: z.string(), score: z.number(), itemCount: z.number() })),
      facts: z.array(z.string()),
      evidence: z.array(
        z.object({
          itemId: z.string(),
          itemIds: z
            .array(z.string())
            .meta({ description: 'Every item the quote stands for (near-duplicates are quoted once).' }),
          text: z.string(),
          weight: z.number(),
          truncated: z.boolean(),
          kind: z.string().optional(),
          timestamp: z.number().optional(),
          rating: z.number().optional(),
          label: z.string().optional(),
          speaker: z.string().optional(),
          dates: z
            .array(
              z.object({ expression: z.string(), label: z.string(), start: z.number(), end: z.number() }),
            )
            .optional()
            .meta({
              description: 'Relative dates of the quote ("yesterday") and the dates they resolve to.',
            }),
        }),
      ),
      attributions: z.array(attributionSchema),
      truncated: z.boolean(),
    }),
    usage: z.object({
      personaTokens: z.number(),
      historyTokens: z.number(),
      compression: z.number(),
      historyItems: z.number(),
      budget: z.number(),
      tokenizer: z.string(),
    }),
    warnings: z.array(z.object({ type: z.string(), message: z.string() })),
  })
  .meta({
    description:
      'The same JSON as `userplug personalize --json` (`personalizeResultToJson` of @userplug/core): the persona text is the system message.',
  });

export const forgetReportSchema = z
  .object({
    userId: z.string(),
    itemsDeleted: z.number(),
    otherDeleted: z.record(z.string(), z.number()),
    verified: z.boolean(),
  })
  .meta({
    description: 'What was erased; `verified` is true when a read afterwards found nothing of the user.',
  });

export const deleteItemResultSchema = z.object({
  userId: z.string(),
  itemId: z.string(),
  deleted: z.literal(true),
});

export const errorSchema = z
  .object({
    error: z.object({
      type: z.string().meta({
        description:
          'invalid-request, invalid-history, unauthorized, not-found, payload-too-large, unsupported-media-type, rate-limited, unavailable or internal.',
      }),
      message: z.string(),
      itemIndex: z
        .number()
        .optional()
        .meta({ description: 'invalid-history: zero-based index of the bad item.' }),
      itemId: z.string().optional(),
      field: z
        .string()
        .optional()
        .meta({ description: 'invalid-history: the field that failed, such as `text`.' }),
    }),
  })
  .meta({ description: 'An error.' });

export const healthSchema = z.object({ status: z.literal('ok') });

export const readinessSchema = z.object({
  status: z.enum(['ready', 'not-ready']),
  checks: z.object({ store: z.boolean(), encoder: z.boolean(), draining: z.boolean() }),
  error: z.object({ type: z.string(), message: z.string() }).optional(),
});
