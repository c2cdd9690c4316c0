import { InvalidArgumentError, type StoredItem, StoreError } from '@userplug/core';

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Refuses an id with a lone UTF-16 surrogate: stored as UTF-8 it would turn into U+FFFD, and two different ids
 * could become one, mixing two users' data.
 */
export function requireWellFormed(name: string, value: string): void {
  if (loneSurrogate.test(value)) {
    throw new InvalidArgumentError(
      name,
      `${name} ${JSON.stringify(value)} holds a lone UTF-16 surrogate, which cannot be stored as UTF-8. Pass well-formed text.`,
    );
  }
}

/** The encoder all of a user's vectors come from. */
export interface UserEncoder {
  encoderId: string;
  dimension: number;
}

/** The error for items of one encoder offered to a user whose items come from another. */
export function mixedEncoderError(
  userId: string,
  item: { id: string; encoderId: string; dimension: number },
  expected: UserEncoder,
  stored: string | undefined,
): StoreError {
  const owner = stored ? `has items in ${stored}` : 'is being stored with items';
  return new StoreError(
    `Item "${item.id}" was embedded by encoder "${item.encoderId}" (${item.dimension} dimensions), but user "${userId}" ${owner} ` +
      `of encoder "${expected.encoderId}" (${expected.dimension} dimensions). Vectors of different encoders cannot be mixed: ` +
      `use encoder "${expected.encoderId}" for this user, or erase the user with forget (\`userplug forget --user ${userId}\`) ` +
      'and ingest the history again with the new encoder.',
    { userId },
  );
}

/**
 * Checks that items to store are well formed and all come from one encoder; returns that encoder.
 * Reads each item's `vectors` once (a store reads them again when it writes them).
 */
export function checkItemBatch(userId: string, items: readonly StoredItem[]): UserEncoder {
  let encoder: UserEncoder | undefined;
  for (const item of items) {
    if (typeof item?.id !== 'string' || item.id.length === 0 || typeof item.text !== 'string') {
      throw new StoreError(
        `An item of user "${userId}" has no string id or text. Store items made by a personalizer's ingest.`,
        {
          userId,
        },
      );
    }
    requireWellFormed('item id', item.id);
    const vectors = item.vectors;
    const pieceCount = item.pieceCount;
    const dimension =
      Number.isInteger(pieceCount) && pieceCount > 0 ? vectors?.length / pieceCount : Number.NaN;
    if (!(vectors instanceof Float32Array) || !Number.isInteger(dimension) || dimension < 1) {
      throw new StoreError(
        `Item "${item.id}" of user "${userId}" holds ${vectors?.length} numbers for ${pieceCount} pieces: ` +
          'vectors must be a Float32Array of pieceCount × dimension numbers. Embed the item again.',
        { userId },
      );
    }
    if (typeof item.encoderId !== 'string' || item.encoderId.length === 0) {
      throw new StoreError(`Item "${item.id}" of user "${userId}" has no encoderId. Embed the item again.`, {
        userId,
      });
    }
    if (!encoder) encoder = { encoderId: item.encoderId, dimension };
    else if (item.encoderId !== encoder.encoderId || dimension !== encoder.dimension) {
      throw mixedEncoderError(
        userId,
        { id: item.id, encoderId: item.encoderId, dimension },
        encoder,
        undefined,
      );
    }
  }
  return encoder!;
}
