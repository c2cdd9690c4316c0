import { describe, expect, it } from 'vitest';
import { createHashingEncoder } from './create-hashing-encoder.js';
import { embedHistoryItems } from './embed-history-items.js';
import { EmbeddingCache } from './embedding-cache.js';
import type { Encoder } from './encoder.js';

describe('embedHistoryItems', () => {
  it('embeds a chat message by message, without speaker labels or the heading', async () => {
    const hashing = createHashingEncoder({ dim: 32 });
    const seen: string[] = [];
    const encoder: Encoder = {
      id: hashing.id,
      dim: hashing.dim,
      encode: (texts) => {
        seen.push(...texts);
        return hashing.encode(texts);
      },
      dispose: () => {},
    };
    const text = [
      'Chat with Ben on Monday',
      'Anna: we sat next to each other in the robotics club',
      'Ben: good times, the library was our second home',
      'Anna: I still miss those late evenings there',
    ].join('\n');
    const { items } = await embedHistoryItems([{ id: '1', text }], {
      encoder,
      cache: new EmbeddingCache(10),
      tokenCounter: { id: 'words', count: (value) => value.split(/\s+/).length, truncate: (value) => value },
      maxPieceWords: 76,
    });
    expect(seen).toEqual([
      'we sat next to each other in the robotics club',
      'good times, the library was our second home',
      'I still miss those late evenings there',
    ]);
    expect(items[0]!.pieceCount).toBe(3);
    expect(items[0]!.vectors).toHaveLength(3 * 32);
  });
});
