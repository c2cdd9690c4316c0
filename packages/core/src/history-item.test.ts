import { describe, expect, it } from 'vitest';
import { parseHistoryItem, readHistoryBatches } from './history-item.js';
import { InvalidHistoryError } from './userplug-error.js';

function errorOf(run: () => unknown): InvalidHistoryError {
  try {
    run();
  } catch (error) {
    if (InvalidHistoryError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected an InvalidHistoryError');
}

describe('parseHistoryItem', () => {
  it('normalises ids to strings and timestamps to epoch milliseconds', () => {
    const item = parseHistoryItem({ id: 7, text: 'hello', timestamp: '2024-01-02T00:00:00Z', rating: 4 }, 0);
    expect(item).toEqual({ id: '7', text: 'hello', timestamp: Date.UTC(2024, 0, 2), rating: 4 });
    expect(parseHistoryItem({ id: 'a', text: 'x', timestamp: new Date(5) }, 0).timestamp).toBe(5);
    // Chat exports write session times in words; they are read as UTC.
    expect(parseHistoryItem({ id: 'b', text: 'x', timestamp: '1:56 pm on 8 May, 2023' }, 0).timestamp).toBe(
      Date.UTC(2023, 4, 8, 13, 56),
    );
  });

  it('names the index, id and field of a missing text', () => {
    const error = errorOf(() => parseHistoryItem({ id: 'r9' }, 3));
    expect(error.itemIndex).toBe(3);
    expect(error.itemId).toBe('r9');
    expect(error.field).toBe('text');
    expect(error.message).toContain('History item 3 (id "r9")');
    expect(error.message).toContain('"text"');
  });

  it('rejects wrong types, empty text, bad dates, negative weights and non-objects', () => {
    expect(errorOf(() => parseHistoryItem({ id: 'a', text: 42 }, 0)).field).toBe('text');
    expect(errorOf(() => parseHistoryItem({ id: 'a', text: '   ' }, 0)).message).toContain('is empty');
    expect(errorOf(() => parseHistoryItem({ id: 'a', text: 'x', timestamp: 'yesterday' }, 0)).field).toBe(
      'timestamp',
    );
    expect(errorOf(() => parseHistoryItem({ id: 'a', text: 'x', weight: -1 }, 0)).field).toBe('weight');
    expect(errorOf(() => parseHistoryItem({ id: 'a', text: 'x', rating: '5' }, 0)).field).toBe('rating');
    expect(errorOf(() => parseHistoryItem('just text', 1)).message).toContain('not an object');
    expect(errorOf(() => parseHistoryItem({ text: 'no id' }, 2)).field).toBe('id');
  });

  it('rejects items over the character limit with the fix', () => {
    const error = errorOf(() =>
      parseHistoryItem({ id: 'big', text: 'a'.repeat(101) }, 0, { maxItemCharacters: 100 }),
    );
    expect(error.field).toBe('text');
    expect(error.message).toContain('maxItemCharacters');
  });
});

describe('readHistoryBatches', () => {
  it('streams an async iterable in validated batches', async () => {
    async function* history() {
      for (let index = 0; index < 5; index++) yield { id: `i${index}`, text: `item ${index}` };
    }
    const sizes: number[] = [];
    for await (const batch of readHistoryBatches(history(), 2)) sizes.push(batch.length);
    expect(sizes).toEqual([2, 2, 1]);
  });

  it('rejects a source that is not iterable', async () => {
    const read = async () => {
      for await (const _ of readHistoryBatches(42 as never, 2)) {
        // drain
      }
    };
    await expect(read()).rejects.toThrow(/array or an \(async\) iterable/);
  });
});
