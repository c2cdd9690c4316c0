import { describe, expect, it } from 'vitest';
import { createTiktokenCounter, tiktokenEncodingForModel } from './token-counter.js';

describe('createTiktokenCounter', () => {
  it('counts with the real o200k and cl100k BPE tokenizers', async () => {
    const o200k = await createTiktokenCounter();
    const cl100k = await createTiktokenCounter({ encoding: 'cl100k_base' });
    expect(o200k.id).toBe('o200k_base');
    expect(o200k.count('hello world')).toBe(2);
    expect(cl100k.count('hello world')).toBe(2);
    // Characters / 4 would say 11 here; BPE knows better.
    expect(o200k.count('antidisestablishmentarianism')).not.toBe(7);
    expect(o200k.count('')).toBe(0);
  });

  it('counts special-token text as plain text instead of throwing', async () => {
    const counter = await createTiktokenCounter();
    expect(counter.count('<|endoftext|>')).toBeGreaterThan(1);
  });

  it('truncates to at most the given tokens, without broken characters', async () => {
    const counter = await createTiktokenCounter();
    const text = 'Grüße aus Köln 🏔️ and a long tail of words that goes on and on and on';
    for (const limit of [0, 1, 3, 5, 8, 100]) {
      const cut = counter.truncate(text, limit);
      expect(counter.count(cut)).toBeLessThanOrEqual(limit);
      expect(text.startsWith(cut)).toBe(true);
      expect(cut).not.toContain('\uFFFD');
    }
    expect(counter.truncate(text, 100)).toBe(text);
  });

  it('rejects unknown encodings with the accepted names', async () => {
    await expect(createTiktokenCounter({ encoding: 'p50k' as never })).rejects.toThrow(/o200k_base/);
  });

  it('maps model names to encodings', () => {
    expect(tiktokenEncodingForModel('gpt-4o-mini')).toBe('o200k_base');
    expect(tiktokenEncodingForModel('gpt-4.1')).toBe('o200k_base');
    expect(tiktokenEncodingForModel('gpt-4-turbo')).toBe('cl100k_base');
    expect(tiktokenEncodingForModel('gpt-3.5-turbo')).toBe('cl100k_base');
    expect(tiktokenEncodingForModel('o3-mini')).toBe('o200k_base');
  });
});
