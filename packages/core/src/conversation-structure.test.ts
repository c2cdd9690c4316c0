import { describe, expect, it } from 'vitest';
import { buildConversationStructure, readQuestionCues } from './conversation-structure.js';
import { createHashingEncoder } from './create-hashing-encoder.js';
import { embedHistoryItems } from './embed-history-items.js';
import { embedUser } from './embed-user.js';
import { EmbeddingCache } from './embedding-cache.js';
import { type HistoryItem, parseHistoryItem } from './history-item.js';
import { buildUserIndex } from './user-index.js';

const day = 86_400_000;
const first = Date.UTC(2024, 2, 10, 18);
const second = Date.UTC(2024, 3, 2, 9);

// Two sittings of one chat between Priya and Tom, stored out of order, with a turn of another chat in between.
const turns: HistoryItem[] = [
  { id: 't3', text: 'Mostly sourdough for now.', speaker: 'Tom Berg', sessionId: 's1', timestamp: first + 3 },
  {
    id: 't1',
    text: 'How was your week, Tom?',
    speaker: 'Priya Raman',
    sessionId: 's1',
    timestamp: first + 1,
  },
  { id: 'x1', text: 'Unrelated note', speaker: 'Priya Raman', sessionId: 'other', timestamp: first + 2 },
  {
    id: 't2',
    text: 'I started at the bakery yesterday.',
    speaker: 'Tom Berg',
    sessionId: 's1',
    timestamp: first + 2,
  },
  {
    id: 'u1',
    text: 'Have you been back to Lisbon?',
    speaker: 'Priya Raman',
    sessionId: 's2',
    timestamp: second,
  },
  {
    id: 'u2',
    text: 'Yes, twice last month!',
    speaker: 'Tom Berg',
    sessionId: 's2',
    timestamp: second,
    self: true,
  },
  { id: 'n1', text: 'A note with no speaker, written last week', timestamp: second },
];

describe('buildConversationStructure', () => {
  it('orders each session by time, links neighbours and marks the answers to questions', () => {
    const structure = buildConversationStructure(turns);
    const row = (id: string) => turns.findIndex((item) => item.id === id);
    expect(structure.hasTurns).toBe(true);
    expect(structure.previousTurn[row('t2')]).toBe(row('t1'));
    expect(structure.previousTurn[row('t3')]).toBe(row('t2'));
    expect(structure.nextTurn[row('t1')]).toBe(row('t2'));
    expect(structure.previousTurn[row('t1')]).toBe(-1);
    expect(structure.previousTurn[row('x1')]).toBe(-1);
    expect(structure.previousTurn[row('u2')]).toBe(row('u1'));
    expect(structure.previousTurn[row('n1')]).toBe(-1);
    expect(structure.answersQuestion[row('t2')]).toBe(1);
    expect(structure.answersQuestion[row('t3')]).toBe(0);
    expect(structure.answersQuestion[row('u2')]).toBe(1);
  });

  it('marks every turn of the speaker of a `self` item as the user own, and resolves relative dates', () => {
    const structure = buildConversationStructure(turns);
    expect(structure.selfSpeakers).toEqual(['Tom Berg']);
    expect(turns.filter((_, row) => structure.selfItems[row]).map((item) => item.id)).toEqual([
      't3',
      't2',
      'u2',
    ]);
    const row = turns.findIndex((item) => item.id === 't2');
    expect(structure.timeExpressions.get(row)?.map((expression) => expression.label)).toEqual(['2024-03-09']);
    expect(structure.timeExpressions.size).toBe(3);
  });

  it('keeps turns of a conversation apart from another conversation with the same session id', () => {
    const structure = buildConversationStructure([
      { id: 'a', text: 'one', speaker: 'A', conversationId: 'c1', sessionId: '1' },
      { id: 'b', text: 'two', speaker: 'B', conversationId: 'c2', sessionId: '1' },
      { id: 'c', text: 'three', speaker: 'A', conversationId: 'c1', sessionId: '1' },
    ]);
    expect([...structure.previousTurn]).toEqual([-1, -1, 0]);
  });
});

describe('readQuestionCues', () => {
  const structure = buildConversationStructure(turns);
  const named = (question: string) =>
    readQuestionCues(question, structure).namedSpeakers.map((id) => structure.speakerNames[id]);

  it('finds the speakers a question names, by full or first name written with a capital', () => {
    expect(named('What did Priya cook for the party?')).toEqual(['Priya Raman']);
    expect(named("When did Tom Berg's new job start?")).toEqual(['Tom Berg']);
    expect(named('Did Priya and Tom meet in Lisbon?').sort()).toEqual(['Priya Raman', 'Tom Berg']);
    expect(named('What did tom cook?')).toEqual([]);
    expect(named('Is a Tomato a fruit?')).toEqual([]);
  });

  it('reads first person, questions about time and named periods', () => {
    expect(readQuestionCues('Where do I live?', structure)).toMatchObject({
      firstPerson: true,
      asksTime: false,
    });
    expect(readQuestionCues('What is my job?', structure).firstPerson).toBe(true);
    expect(readQuestionCues('When did Tom start at the bakery?', structure)).toMatchObject({
      firstPerson: false,
      asksTime: true,
    });
    expect(readQuestionCues('How long ago did we meet?', structure).asksTime).toBe(true);
    expect(readQuestionCues('What did Priya do in 2023?', structure).periods).toHaveLength(1);
  });
});

describe('embedUser with conversation cues', () => {
  const encoder = createHashingEncoder({ dim: 64 });
  const counter = {
    id: 'words',
    count: (text: string) => text.split(/\s+/).length,
    truncate: (text: string) => text,
  };

  async function scored(items: HistoryItem[], question: string, settings = {}) {
    const { items: stored } = await embedHistoryItems(items, {
      encoder,
      cache: new EmbeddingCache(100),
      tokenCounter: counter,
      maxPieceWords: 40,
    });
    const index = buildUserIndex(stored, encoder.dim, encoder.id);
    const structure = buildConversationStructure(index.items);
    const [query] = await encoder.encode([question]);
    const embedding = embedUser(index, query!, question, settings, {
      structure,
      cues: readQuestionCues(question, structure),
    });
    return Object.fromEntries(index.items.map((item, row) => [item.id, embedding.weights[row]!]));
  }

  it('favours the turns of the speaker a question names', async () => {
    const items: HistoryItem[] = [
      { id: 'p', text: 'cooked a big pot of dal for the party', speaker: 'Priya', sessionId: 's' },
      { id: 't', text: 'cooked a big pot of dal for the party', speaker: 'Tom', sessionId: 's' },
    ];
    const weights = await scored(items, 'What did Priya cook for the party?');
    expect(weights.p).toBeGreaterThan(weights.t!);
    const off = await scored(items, 'What did Priya cook for the party?', {
      speakerWeight: 0,
      contextWeight: 0,
    });
    expect(off.p).toBeCloseTo(off.t!, 10);
  });

  it("favours the user's own turns for a question in the first person", async () => {
    const items: HistoryItem[] = [
      { id: 'mine', text: 'live near the old harbour', speaker: 'Sam', self: true },
      { id: 'theirs', text: 'live near the old harbour', speaker: 'Alex' },
    ];
    const weights = await scored(items, 'Where do I live?');
    expect(weights.mine).toBeGreaterThan(weights.theirs!);
    const third = await scored(items, 'Where does the baker live?');
    expect(third.mine).toBeCloseTo(third.theirs!, 10);
  });

  it('reads an answer with its question, and dated turns for a question about time', async () => {
    const items: HistoryItem[] = [
      { id: 'q', text: 'have you been back to lisbon?', speaker: 'A', sessionId: 's', timestamp: second },
      { id: 'answer', text: 'yes twice', speaker: 'B', sessionId: 's', timestamp: second + 1 },
      { id: 'other', text: 'yes twice', speaker: 'B', sessionId: 't', timestamp: second + 2 },
    ];
    const weights = await scored(items, 'lisbon trips');
    expect(weights.answer).toBeGreaterThan(weights.other!);
    const dated: HistoryItem[] = [
      { id: 'dated', text: 'started at the bakery yesterday', timestamp: second },
      { id: 'plain', text: 'started at the bakery', timestamp: second - day },
    ];
    const question = 'When did I start at the bakery?';
    const when = await scored(dated, question, { recencyWeight: 0 });
    const without = await scored(dated, question, { recencyWeight: 0, timeWeight: 0 });
    expect(when.dated! / when.plain!).toBeCloseTo(
      Math.exp(0.03 / 0.05) * (without.dated! / without.plain!),
      6,
    );
    const where = 'Where did I start at the bakery?';
    const whereWith = await scored(dated, where, { recencyWeight: 0 });
    const whereWithout = await scored(dated, where, { recencyWeight: 0, timeWeight: 0 });
    expect(whereWith.dated).toBeCloseTo(whereWithout.dated!, 10);
  });
});

describe('conversation fields of a history item', () => {
  it('validates speaker, self, conversationId and sessionId, and names the bad field', () => {
    const item = parseHistoryItem(
      { id: 1, text: 'hi', speaker: ' Tom ', self: true, conversationId: 7, sessionId: 's1' },
      0,
    );
    expect(item).toMatchObject({ speaker: 'Tom', self: true, conversationId: '7', sessionId: 's1' });
    for (const [field, value] of [
      ['speaker', ''],
      ['speaker', 5],
      ['self', 'yes'],
      ['conversationId', ''],
      ['sessionId', {}],
    ] as const) {
      expect(() => parseHistoryItem({ id: 'a', text: 'x', [field]: value }, 0)).toThrow(
        new RegExp(`field "${field}"`),
      );
    }
  });
});
