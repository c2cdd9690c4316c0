import { describe, expect, it } from 'vitest';
import { createHashingEncoder } from './create-hashing-encoder.js';
import { createPersonalizer } from './create-personalizer.js';
import type { Encoder } from './encoder.js';
import type { HistoryItemInput } from './history-item.js';
import { createMemoryStore } from './memory-store.js';
import { personalize } from './personalize.js';
import { minimumPersonaBudget, wholeHistoryTokens } from './render-persona.js';
import { createTiktokenCounter } from './token-counter.js';
import { EncoderError, InvalidArgumentError, InvalidHistoryError } from './userplug-error.js';

function countingEncoder(): Encoder & { texts: string[] } {
  const inner = createHashingEncoder({ dim: 64 });
  const texts: string[] = [];
  return {
    id: inner.id,
    dim: inner.dim,
    texts,
    async encode(batch) {
      texts.push(...batch);
      return inner.encode(batch);
    },
    dispose() {},
  };
}

const history: HistoryItemInput[] = [
  { id: 'h1', kind: 'post', text: 'Hiked the ridge trail with my dog at sunrise', timestamp: '2024-05-01' },
  {
    id: 'h2',
    kind: 'review',
    text: 'Great vegetarian ramen, rich miso broth',
    rating: 5,
    timestamp: '2024-05-03',
  },
  { id: 'h3', kind: 'purchase', text: 'Trail running shoes with a wide toe box', timestamp: '2024-05-04' },
  {
    id: 'h4',
    kind: 'review',
    text: 'Noisy hotel, thin walls, would not stay again',
    rating: 1,
    timestamp: '2024-05-09',
  },
];

describe('createPersonalizer', () => {
  it('embeds each item once: re-ingesting and personalizing never re-embeds', async () => {
    const encoder = countingEncoder();
    const personalizer = createPersonalizer({ encoder, embeddingCacheSize: 100 });
    const first = await personalizer.ingest('u1', history);
    expect(first).toMatchObject({ received: 4, inserted: 4, updated: 0, unchanged: 0, embeddedTexts: 4 });
    const second = await personalizer.ingest('u1', history);
    expect(second).toMatchObject({ inserted: 0, updated: 0, unchanged: 4, embeddedTexts: 0 });
    const itemTextsEncoded = encoder.texts.length;
    await personalizer.personalize({ userId: 'u1', prompt: 'shoes for trail running' });
    await personalizer.personalize({ userId: 'u1', prompt: 'a dinner idea' });
    const itemEncodes = encoder.texts.filter((text) => history.some((item) => item.text === text));
    expect(itemEncodes).toHaveLength(4);
    expect(encoder.texts.length).toBeGreaterThan(itemTextsEncoded);
  });

  it('quotes an item cut by an older version whole, and re-cuts it when the history is ingested again', async () => {
    const store = createMemoryStore();
    const personalizer = createPersonalizer({
      encoder: createHashingEncoder({ dim: 64 }),
      store,
      budget: 2000,
    });
    const chat = {
      id: 'chat',
      text: [
        'Anna: I finally went rowing on the river this morning. The water was calm and cold.',
        'Ben: Rowing at dawn sounds great. Did you go with the club?',
        'Anna: Yes, with the club. We are racing in the regatta next month.',
      ].join('\n'),
    };
    await personalizer.ingest('u1', [chat]);
    const [stored] = await store.listItems('u1');
    expect(stored!.pieceCount).toBeGreaterThan(2);
    // What an earlier version stored: two pieces, another item hash.
    await store.upsertItems('u1', [
      {
        ...stored!,
        itemHash: 'cut-by-an-older-version',
        pieceCount: 2,
        vectors: stored!.vectors.slice(0, 2 * 64),
      },
    ]);
    const fresh = createPersonalizer({ encoder: createHashingEncoder({ dim: 64 }), store, budget: 2000 });
    const { persona } = await fresh.personalize({ userId: 'u1', prompt: 'rowing regatta club' });
    expect(persona.evidence[0]!.text).toBe(chat.text.replace(/\n/g, ' '));
    expect(await fresh.ingest('u1', [chat])).toMatchObject({ updated: 1, unchanged: 0 });
    expect((await store.listItems('u1'))[0]!.pieceCount).toBe(stored!.pieceCount);
  });

  it('counts a changed item as updated and reuses vectors of equal texts', async () => {
    const encoder = countingEncoder();
    const personalizer = createPersonalizer({ encoder, embeddingCacheSize: 0 });
    await personalizer.ingest('u1', history);
    const result = await personalizer.ingest('u1', [
      { ...history[0]!, rating: 4 },
      { id: 'copy', text: history[1]!.text },
    ]);
    expect(result).toMatchObject({ inserted: 1, updated: 1, embeddedTexts: 0, reusedTexts: 2 });
  });

  it('counts an id repeated within one call as updated, across and within batches', async () => {
    const personalizer = createPersonalizer({ encoder: createHashingEncoder({ dim: 64 }), batchSize: 2 });
    const result = await personalizer.ingest('u1', [
      { id: 'a', text: 'first version of a' },
      { id: 'a', text: 'second version of a' },
      { id: 'b', text: 'only b' },
      { id: 'a', text: 'second version of a' },
      { id: 'c', text: 'only c' },
    ]);
    expect(result).toMatchObject({ received: 5, inserted: 3, updated: 2, unchanged: 0 });
    const texts = (await personalizer.store.listItems('u1')).map((item) => item.text);
    expect(texts.sort()).toEqual(['only b', 'only c', 'second version of a']);
    const again = await personalizer.ingest('u1', [{ id: 'b', text: 'only b' }]);
    expect(again).toMatchObject({ received: 1, inserted: 0, updated: 0, unchanged: 1 });
  });

  it('runs concurrent ingests of one user one after another, so their counts add up', async () => {
    const personalizer = createPersonalizer({ encoder: createHashingEncoder({ dim: 64 }), batchSize: 3 });
    const histories = [0, 1, 2, 3].map((call) =>
      Array.from({ length: 10 }, (_, index) => ({
        id: `item-${index}`,
        text: `text ${index} from call ${call % 2}`,
      })),
    );
    const results = await Promise.all(histories.map((items) => personalizer.ingest('u1', items)));
    for (const result of results)
      expect(result.inserted + result.updated + result.unchanged).toBe(result.received);
    const total = (field: 'inserted' | 'updated' | 'unchanged') =>
      results.reduce((sum, result) => sum + result[field], 0);
    // Calls 0 and 2 carry the same texts, as do 1 and 3: every id is new once, then alternates.
    expect(total('inserted')).toBe(10);
    expect(total('updated')).toBe(30);
    expect(total('unchanged')).toBe(0);
  });

  it('stops an aborted ingest before storing the batch, and keeps the batches stored before', async () => {
    const controller = new AbortController();
    const inner = createHashingEncoder({ dim: 64 });
    let batches = 0;
    const encoder: Encoder = {
      id: inner.id,
      dim: inner.dim,
      async encode(texts) {
        batches++;
        // The second batch is aborted while it is being embedded.
        if (batches === 2) controller.abort(new Error('user cancelled'));
        return inner.encode(texts);
      },
      dispose() {},
    };
    const personalizer = createPersonalizer({ encoder, batchSize: 2 });
    const items = history.map((item, index) => ({ ...item, text: `${item.text} ${index}` }));
    const ingesting = personalizer.ingest('u1', items, { signal: controller.signal });
    await expect(ingesting).rejects.toMatchObject({ name: 'UserplugAbortError' });
    expect((await personalizer.store.listItems('u1')).map((item) => item.id)).toEqual(['h1', 'h2']);
    await expect(
      personalizer.personalize({ userId: 'u1', prompt: 'hello', signal: controller.signal }),
    ).rejects.toMatchObject({ name: 'UserplugAbortError' });
  });

  it('returns the persona, the messages and the token accounting', async () => {
    const personalizer = createPersonalizer({ encoder: countingEncoder(), budget: 250 });
    const result = await personalizer.personalize({
      userId: 'u1',
      prompt: 'Which shoes should I buy?',
      history,
    });
    expect(result.messages).toEqual([
      { role: 'system', content: result.persona.text },
      { role: 'user', content: 'Which shoes should I buy?' },
    ]);
    expect(result.prompt).toBe(`${result.persona.text}\n\nWhich shoes should I buy?`);
    expect(result.persona.attributions[0]!.itemId).toBe('h3');
    expect(result.persona.evidence[0]!.itemId).toBe('h3');
    expect(result.persona.vector).toHaveLength(64);
    expect(Object.keys(result.persona.kindVectors).sort()).toEqual(['post', 'purchase', 'review']);
    expect(result.usage.personaTokens).toBeGreaterThan(0);
    expect(result.usage.personaTokens).toBeLessThanOrEqual(250);
    expect(result.usage.historyItems).toBe(4);
    expect(result.usage.compression).toBeCloseTo(result.usage.historyTokens / result.usage.personaTokens, 10);
    expect(result.warnings).toEqual([]);
  });

  it('attributions cover all items and sum to 1 when all are requested', async () => {
    const personalizer = createPersonalizer({ encoder: countingEncoder() });
    const result = await personalizer.personalize({
      userId: 'u1',
      prompt: 'dog',
      history,
      maxAttributions: 100,
      influence: true,
    });
    expect(result.persona.attributions).toHaveLength(4);
    const total = result.persona.attributions.reduce((sum, attribution) => sum + attribution.weight, 0);
    expect(total).toBeCloseTo(1, 10);
    // Leaving out the item the prompt attends to most moves the persona most.
    const [top, ...others] = result.persona.attributions;
    expect(top!.itemId).toBe('h1');
    expect(top!.influence).toBeGreaterThan(0);
    for (const other of others) expect(other.influence!).toBeLessThan(top!.influence!);
  });

  it('returns a persona-free prompt with a warning for an empty history, and for budget 0 no persona text', async () => {
    const personalizer = createPersonalizer({ encoder: countingEncoder() });
    const empty = await personalizer.personalize({ userId: 'nobody', prompt: 'hello', history: [] });
    expect(empty.prompt).toBe('hello');
    expect(empty.messages).toEqual([{ role: 'user', content: 'hello' }]);
    expect(empty.warnings[0]!.type).toBe('empty-history');
    const off = await personalizer.personalize({ userId: 'u1', prompt: 'hello', history, budget: 0 });
    expect(off.prompt).toBe('hello');
    expect(off.messages).toEqual([{ role: 'user', content: 'hello' }]);
    expect(off.usage.personaTokens).toBe(0);
    // No text is sent, but local models and apps still get the vectors and attributions.
    expect(off.persona.attributions).toHaveLength(4);
    expect(Math.hypot(...off.persona.vector)).toBeCloseTo(1, 5);
  });

  it('keeps earlier batches and names the bad item when a streamed history fails half way', async () => {
    const personalizer = createPersonalizer({ encoder: countingEncoder(), batchSize: 2 });
    await personalizer.ingest('u1', [{ id: 'kept', text: 'stored before' }]);
    async function* stream() {
      yield* history.slice(0, 3);
      yield { id: 'bad', text: 17 };
    }
    const failure = await personalizer
      .ingest('u1', stream() as AsyncIterable<HistoryItemInput>)
      .catch((error) => error);
    expect(InvalidHistoryError.isInstance(failure)).toBe(true);
    expect(failure.itemIndex).toBe(3);
    expect(failure.itemId).toBe('bad');
    expect(failure.message).toContain('2 items before it');
    const ids = (await personalizer.store.listItems('u1')).map((item) => item.id).sort();
    expect(ids).toEqual(['h1', 'h2', 'kept']);
  });

  it('forgets one user completely and leaves the others alone', async () => {
    const personalizer = createPersonalizer({ encoder: countingEncoder() });
    await personalizer.ingest('u1', history);
    await personalizer.ingest('u2', [{ id: 'x', text: 'stamp collecting and philately fairs' }]);
    const report = await personalizer.forget('u1');
    expect(report).toMatchObject({ userId: 'u1', itemsDeleted: 4, verified: true });
    expect(await personalizer.store.countItems('u1')).toBe(0);
    expect(await personalizer.store.countItems('u2')).toBe(1);
    const after = await personalizer.personalize({ userId: 'u1', prompt: 'shoes' });
    expect(after.persona.text).toBe('');
  });

  it('never shows one user the items of another', async () => {
    const personalizer = createPersonalizer({ encoder: countingEncoder() });
    await personalizer.ingest('u1', history);
    await personalizer.ingest('u2', [{ id: 'secret', text: 'Trail running shoes are my secret obsession' }]);
    const result = await personalizer.personalize({
      userId: 'u1',
      prompt: 'trail running shoes',
      maxAttributions: 50,
    });
    expect(result.persona.text).not.toContain('secret');
    expect(result.persona.attributions.map((attribution) => attribution.itemId)).not.toContain('secret');
  });

  it('reports encoders that return malformed vectors', async () => {
    const broken: Encoder = {
      id: 'broken',
      dim: 8,
      encode: async (texts) => texts.map(() => new Float32Array(3)),
      dispose() {},
    };
    const personalizer = createPersonalizer({ encoder: broken });
    const failure = await personalizer.ingest('u1', history).catch((error) => error);
    expect(EncoderError.isInstance(failure)).toBe(true);
    expect(failure.message).toContain('declares dim 8');
    expect(await personalizer.store.countItems('u1')).toBe(0);
  });

  it('rejects bad arguments with the fix', async () => {
    expect(() => createPersonalizer({ budget: -5 })).toThrow(InvalidArgumentError);
    const personalizer = createPersonalizer({ encoder: countingEncoder() });
    await expect(personalizer.personalize({ userId: '', prompt: 'x' })).rejects.toThrow(/userId/);
    await expect(personalizer.personalize({ userId: 'u', prompt: 'x', budget: 1.5 })).rejects.toThrow(
      /whole number/,
    );
  });
});

describe('createPersonalizer: the persona text', () => {
  const frameTokens = async () => minimumPersonaBudget(await createTiktokenCounter());

  it('quotes a history that fits whole, by relevance, and adds nothing else', async () => {
    const small: HistoryItemInput[] = [
      { id: 'a', text: 'Bought a light rain shell for the Dolomites' },
      { id: 'b', text: 'Planning a hut-to-hut hike this September' },
      { id: 'c', text: 'Lentil soup again, fine' },
    ];
    const result = await personalize(small, 'What should I pack for my trip?', {
      encoder: createHashingEncoder(),
      budget: 120,
    });
    const quoted = result.persona.evidence.map((item) => item.itemId);
    expect([...quoted].sort()).toEqual(['a', 'b', 'c']);
    expect(quoted).toEqual(result.persona.attributions.slice(0, 3).map((item) => item.itemId));
    expect(result.persona.evidence.every((item) => !item.truncated)).toBe(true);
    expect(result.persona.text).not.toMatch(/History:|Interests|Also relevant/);
    // Never larger than the history plus the header: each item costs its text, two quote marks and a newline.
    expect(result.usage.personaTokens).toBeLessThanOrEqual(
      result.usage.historyTokens + (await frameTokens()) + 3 * small.length,
    );
  });

  it('never makes a persona larger than the whole history quoted, for any budget', async () => {
    const counter = await createTiktokenCounter();
    const personalizer = createPersonalizer({ encoder: createHashingEncoder() });
    await personalizer.ingest('u', history);
    const stored = await personalizer.store.listItems('u');
    const whole = wholeHistoryTokens(
      stored.map((item) => ({
        itemId: item.id,
        text: item.text,
        weight: 0,
        ...(item.kind === undefined ? {} : { kind: item.kind }),
        ...(item.timestamp === undefined ? {} : { timestamp: item.timestamp }),
        ...(item.rating === undefined ? {} : { rating: item.rating }),
      })),
      counter,
    );
    for (const budget of [40, 80, 120, 200, 400, 5000]) {
      const result = await personalizer.personalize({ userId: 'u', prompt: 'trail shoes', budget });
      expect(result.usage.personaTokens).toBeLessThanOrEqual(Math.min(budget, whole));
    }
  });

  it('quotes a repeated statement once, with the latest date, crediting every item it stands for', async () => {
    const repeated: HistoryItemInput[] = [
      { id: 'r1', text: 'I am allergic to peanuts, please keep that in mind.', timestamp: '2024-01-05' },
      { id: 'x', text: 'The garden needs watering twice a week.', timestamp: '2024-02-01' },
      { id: 'r2', text: 'I am allergic to peanuts, please keep that in mind!', timestamp: '2024-03-09' },
    ];
    const result = await personalize(repeated, 'Any food allergies?', {
      encoder: createHashingEncoder(),
      budget: 300,
    });
    const quote = result.persona.evidence.find((item) => item.itemIds.includes('r1'))!;
    expect([...quote.itemIds].sort()).toEqual(['r1', 'r2']);
    expect(quote.timestamp).toBe(Date.UTC(2024, 2, 9));
    expect(result.persona.evidence).toHaveLength(2);
    expect(result.persona.text.match(/allergic to peanuts/g)).toHaveLength(1);
    // Attributions stay per item.
    expect(result.persona.attributions.map((item) => item.itemId).sort()).toEqual(['r1', 'r2', 'x']);
  });

  it('quotes chat turns with their speaker and resolved dates, and attributes each turn', async () => {
    const said = '2024-03-10T18:00:00Z';
    const chat: HistoryItemInput[] = [
      { id: 'c1', text: 'How was your week, Tom?', speaker: 'Priya', sessionId: 's1', timestamp: said },
      {
        id: 'c2',
        text: 'Started at the bakery yesterday!',
        speaker: 'Tom',
        sessionId: 's1',
        timestamp: said,
      },
      { id: 'c3', text: 'Congrats! Early shifts?', speaker: 'Priya', sessionId: 's1', timestamp: said },
    ];
    const result = await personalize(chat, 'When did Tom start at the bakery?', {
      encoder: createHashingEncoder(),
      budget: 200,
    });
    expect(result.persona.text).toContain(
      '[2024-03-09 (said 2024-03-10), Tom] "Started at the bakery yesterday!"',
    );
    expect(result.persona.attributions[0]!.itemId).toBe('c2');
    expect(result.persona.evidence[0]).toMatchObject({ itemId: 'c2', itemIds: ['c2'], speaker: 'Tom' });
  });

  it('names the user in the opening and keeps the opening byte-identical across prompts', async () => {
    const turns: HistoryItemInput[] = Array.from({ length: 80 }, (_, index) => ({
      id: `t${index}`,
      text: `${index % 2 ? 'Morning run' : 'Evening swim'} number ${index} by the old harbour, then coffee with Sam`,
      speaker: index % 2 ? 'Ana' : 'Sam',
      self: index % 2 === 1 ? true : undefined,
      sessionId: `s${Math.floor(index / 4)}`,
      timestamp: Date.UTC(2024, 0, 1 + index),
    })).map(
      (turn) =>
        Object.fromEntries(
          Object.entries(turn).filter(([, value]) => value !== undefined),
        ) as unknown as HistoryItemInput,
    );
    const personalizer = createPersonalizer({ encoder: createHashingEncoder(), budget: 300 });
    await personalizer.ingest('u', turns);
    const first = await personalizer.personalize({ userId: 'u', prompt: 'Where do I swim?' });
    const second = await personalizer.personalize({ userId: 'u', prompt: 'Who do I have coffee with?' });
    expect(first.persona.stableText).toContain('The user is "Ana".');
    expect(first.persona.stableText).toBe(second.persona.stableText);
    expect(first.persona.dynamicText).not.toBe(second.persona.dynamicText);
  });

  it('opens with the long-term interests only when rendering.interests is set; persona.profile has them either way', async () => {
    const topics = ['trail running', 'vegetarian ramen', 'film photography'];
    const items: HistoryItemInput[] = Array.from({ length: 60 }, (_, index) => ({
      id: `p${index}`,
      kind: 'post',
      text: `Week ${index}: more ${topics[index % 3]} with friends, and ${topics[(index + 1) % 3]} on Sunday`,
      timestamp: Date.UTC(2024, 0, 1 + index),
    }));
    const prompt = 'What should I do this weekend?';
    const plain = createPersonalizer({ encoder: createHashingEncoder(), budget: 400 });
    const withInterests = createPersonalizer({
      encoder: createHashingEncoder(),
      budget: 400,
      rendering: { interests: true },
    });
    await plain.ingest('u', items);
    await withInterests.ingest('u', items);
    const without = await plain.personalize({ userId: 'u', prompt });
    const withThem = await withInterests.personalize({ userId: 'u', prompt });
    expect(without.persona.profile.descriptors.length).toBeGreaterThan(0);
    expect(withThem.persona.profile).toEqual(without.persona.profile);
    expect(without.persona.stableText).not.toContain('Interests');
    expect(withThem.persona.stableText).toContain('Interests');
    expect(withThem.persona.stableText).toContain(`"${without.persona.profile.descriptors[0]!.phrase}"`);
  });

  it('stores an item again when only its speaker or session changed', async () => {
    const personalizer = createPersonalizer({ encoder: createHashingEncoder() });
    const turn = { id: 't', text: 'See you at the market', speaker: 'Ana', sessionId: 's1' };
    await personalizer.ingest('u', [turn]);
    expect(await personalizer.ingest('u', [turn])).toMatchObject({ unchanged: 1 });
    expect(await personalizer.ingest('u', [{ ...turn, speaker: 'Sam' }])).toMatchObject({ updated: 1 });
    expect(await personalizer.ingest('u', [{ ...turn, speaker: 'Sam', sessionId: 's2' }])).toMatchObject({
      updated: 1,
    });
    const [stored] = await personalizer.store.listItems('u');
    expect(stored).toMatchObject({ speaker: 'Sam', sessionId: 's2' });
  });
});

describe('personalize', () => {
  it('personalizes in one call with a given encoder', async () => {
    const result = await personalize(history, 'Suggest a dinner', {
      encoder: createHashingEncoder(),
      budget: 200,
    });
    expect(result.persona.text.startsWith('<user_persona>')).toBe(true);
    expect(result.usage.personaTokens).toBeLessThanOrEqual(200);
    expect(result.messages).toHaveLength(2);
  });
});
