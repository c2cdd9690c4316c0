import { describe, expect, it } from 'vitest';
import { createHashingEncoder } from './create-hashing-encoder.js';
import { embedHistoryItems } from './embed-history-items.js';
import { embedUser } from './embed-user.js';
import { EmbeddingCache } from './embedding-cache.js';
import type { HistoryItem } from './history-item.js';
import { buildUserIndex } from './user-index.js';

const encoder = createHashingEncoder({ dim: 64 });
const counter = {
  id: 'words',
  count: (text: string) => text.split(/\s+/).filter(Boolean).length,
  truncate: (text: string) => text,
};

async function indexOf(items: HistoryItem[]) {
  const { items: stored } = await embedHistoryItems(items, {
    encoder,
    cache: new EmbeddingCache(100),
    tokenCounter: counter,
    maxPieceWords: 40,
  });
  return buildUserIndex(stored, encoder.dim, encoder.id);
}

async function queryVector(text: string) {
  const [vector] = await encoder.encode([text]);
  return vector!;
}

const items: HistoryItem[] = [
  { id: 'a', text: 'trail running in the mountains', kind: 'post', timestamp: Date.UTC(2024, 0, 1) },
  { id: 'b', text: 'baking sourdough bread at home', kind: 'post', timestamp: Date.UTC(2023, 0, 1) },
  { id: 'c', text: 'new trail running shoes', kind: 'purchase', rating: 5, timestamp: Date.UTC(2024, 5, 1) },
  { id: 'd', text: 'tax report due friday', kind: 'message', weight: 0 },
];

describe('embedUser', () => {
  it('puts a softmax over all items: weights are non-negative and sum to 1', async () => {
    const index = await indexOf(items);
    const embedding = embedUser(index, await queryVector('trail running'), 'trail running');
    const total = embedding.weights.reduce((sum, weight) => sum + weight, 0);
    expect(total).toBeCloseTo(1, 10);
    for (const weight of embedding.weights) expect(weight).toBeGreaterThanOrEqual(0);
    expect(embedding.weights[2]! + embedding.weights[0]!).toBeGreaterThan(0.9);
  });

  it('gives weight 0 to items with weight 0 and a unit persona vector', async () => {
    const index = await indexOf(items);
    const embedding = embedUser(index, await queryVector('tax report'), 'tax report');
    expect(embedding.weights[3]).toBe(0);
    const norm = Math.hypot(...embedding.personaVector);
    expect(norm).toBeCloseTo(1, 5);
  });

  it('flattens with a higher temperature and sharpens with a lower one', async () => {
    const index = await indexOf(items);
    const query = await queryVector('sourdough');
    const sharp = embedUser(index, query, 'sourdough', { temperature: 0.01 });
    const flat = embedUser(index, query, 'sourdough', { temperature: 10 });
    expect(Math.max(...sharp.weights)).toBeGreaterThan(Math.max(...flat.weights));
    expect(Math.max(...flat.weights)).toBeLessThan(0.4);
  });

  it('lets the lexical score and the kind prior move the weights', async () => {
    const index = await indexOf(items);
    const query = await queryVector('something unrelated');
    const plain = embedUser(index, query, 'bread', { lexicalWeight: 0 });
    const lexical = embedUser(index, query, 'bread', { lexicalWeight: 1 });
    expect(lexical.weights[1]!).toBeGreaterThan(plain.weights[1]!);
    const withoutPrior = embedUser(index, query, 'x');
    const withPrior = embedUser(index, query, 'x', { kindPriors: { purchase: 5 } });
    expect(withPrior.weights[2]!).toBeGreaterThan(0.8);
    expect(withPrior.weights[2]!).toBeGreaterThan(withoutPrior.weights[2]!);
  });

  it('prefers newer items with the recency prior', async () => {
    const index = await indexOf([
      { id: 'old', text: 'same words here', timestamp: Date.UTC(2000, 0, 1) },
      { id: 'new', text: 'same words here', timestamp: Date.UTC(2024, 0, 1) },
    ]);
    const embedding = embedUser(index, await queryVector('same words'), 'same words', { recencyWeight: 1 });
    expect(embedding.weights[1]!).toBeGreaterThan(embedding.weights[0]!);
  });

  it('scores a long item by its best pieces', async () => {
    const filler = Array.from({ length: 60 }, (_, index) => `filler${index}`).join(' ');
    const index = await indexOf([
      { id: 'long', text: `${filler}\nquantum chromodynamics lecture notes\n${filler}` },
      { id: 'short', text: 'grocery list apples' },
    ]);
    expect(index.items[0]!.pieceCount).toBeGreaterThan(1);
    const embedding = embedUser(index, await queryVector('quantum chromodynamics'), 'quantum', {
      piecePooling: 'max',
    });
    expect(embedding.weights[0]!).toBeGreaterThan(embedding.weights[1]!);
    expect(embedding.bestPiece[0]).toBeGreaterThan(0);
  });
});

describe('embedUser on a calibrated index', () => {
  // Sixty near-identical generic questions and sixty distinct specific lines: enough pieces to calibrate.
  const generic = Array.from(
    { length: 60 },
    (_, index): HistoryItem => ({
      id: `generic-${index}`,
      text: `any suggestions for the weekend ${index % 3 === 0 ? 'please' : ''}`,
    }),
  );
  const topics = ['sailing', 'climbing', 'chess', 'baking', 'cycling', 'opera'];
  const specific = Array.from(
    { length: 60 },
    (_, index): HistoryItem => ({
      id: `specific-${index}`,
      text: `last weekend I went ${topics[index % topics.length]} with friend${index} near town${index}`,
    }),
  );

  it('whitens and subtracts hubness, and keeps plain cosine when whitening is off', async () => {
    const { items: stored } = await embedHistoryItems([...generic, ...specific], {
      encoder,
      cache: new EmbeddingCache(1000),
      tokenCounter: counter,
      maxPieceWords: 40,
    });
    const calibrated = buildUserIndex(stored, encoder.dim, encoder.id);
    const plain = buildUserIndex(stored, encoder.dim, encoder.id, {
      whitening: false,
      vectorPrecision: 'float32',
    });
    expect(calibrated.calibration).toBeDefined();
    expect(plain.calibration).toBeUndefined();
    const text = 'suggestions for a sailing weekend';
    const query = await queryVector(text);
    const plainView = embedUser(plain, query, text);
    let cosine = 0;
    for (let column = 0; column < encoder.dim; column++)
      cosine += query[column]! * stored[60]!.vectors[column]!;
    expect(plainView.relevance[60]).toBeCloseTo(cosine, 5);

    // The generic line resembles everything it repeats; hubness moves weight to the specific sailing line.
    const gap = (hubnessWeight: number) => {
      const view = embedUser(calibrated, query, text, { hubnessWeight, lexicalWeight: 0 });
      return view.relevance[0]! - view.relevance[60]!;
    };
    expect(gap(1)).toBeLessThan(gap(0) - 0.1);
    expect(calibrated.calibration!.hubness[0]!).toBeGreaterThan(calibrated.calibration!.hubness[60]!);
  });
});

describe('embedUser feedback', () => {
  const wide = createHashingEncoder({ dim: 256 });
  const history: HistoryItem[] = [
    ...Array.from({ length: 70 }, (_, row) => ({
      id: `filler-${row}`,
      text: `note${row} errand${row % 7} kettle${row % 5}`,
    })),
    ...['rowing regatta', 'rowing club', 'regatta crew', 'club crew', 'rowing crew'].map((words, row) => ({
      id: `stated-${row}`,
      text: `sports ${words}`,
    })),
    { id: 'implied', text: 'rowing regatta club crew saturday' },
  ];

  async function feedbackIndex() {
    const { items: stored } = await embedHistoryItems(history, {
      encoder: wide,
      cache: new EmbeddingCache(1000),
      tokenCounter: counter,
      maxPieceWords: 40,
    });
    return buildUserIndex(stored, wide.dim, wide.id);
  }

  it('moves up items that share the best matches’ words but none of the query’s', async () => {
    const index = await feedbackIndex();
    expect(index.calibration).toBeDefined();
    const [query] = await wide.encode(['sports']);
    // How far the implied item is behind the best unrelated one.
    const gap = (feedbackWeight: number) => {
      const { relevance } = embedUser(index, query!, 'sports', { feedbackWeight, lexicalWeight: 0 });
      return relevance[75]! - Math.max(...relevance.slice(0, 70));
    };
    expect(gap(0.3)).toBeGreaterThan(gap(0) + 0.03);
    expect(gap(1)).toBeGreaterThan(gap(0.3) + 0.03);
  });

  it('pulls up the neighbours of each best match separately', async () => {
    const facets: HistoryItem[] = [
      ...Array.from({ length: 70 }, (_, row) => ({
        id: `filler-${row}`,
        text: `note${row} errand${row % 7}`,
      })),
      { id: 'stated-rowing', text: 'sports rowing regatta crew' },
      { id: 'stated-yoga', text: 'sports yoga mat stretch' },
      { id: 'implied-rowing', text: 'rowing regatta crew saturday' },
      { id: 'implied-yoga', text: 'yoga mat stretch sunday' },
    ];
    const { items: stored } = await embedHistoryItems(facets, {
      encoder: wide,
      cache: new EmbeddingCache(1000),
      tokenCounter: counter,
      maxPieceWords: 40,
    });
    const index = buildUserIndex(stored, wide.dim, wide.id);
    const [query] = await wide.encode(['sports']);
    const relevanceOf = (feedbackWeight: number) =>
      embedUser(index, query!, 'sports', { feedbackWeight, lexicalWeight: 0 }).relevance;
    const before = relevanceOf(0);
    const after = relevanceOf(0.3);
    const gain = (item: number) => after[item]! - before[item]!;
    // Each implied item shares words with one stated item only, and each gains from its own anchor.
    const fillerGain = Math.max(...Array.from({ length: 70 }, (_, item) => gain(item)));
    expect(fillerGain).toBeLessThan(0.03);
    for (const implied of [72, 73]) expect(gain(implied)).toBeGreaterThan(fillerGain + 0.08);
  });

  it('rescores only the best candidates of the first pass and keeps the rest below them', async () => {
    const index = await feedbackIndex();
    const [query] = await wide.encode(['sports']);
    const settings = { lexicalWeight: 0, feedbackWeight: 0.3 };
    const full = embedUser(index, query!, 'sports', settings).relevance;
    const limited = embedUser(index, query!, 'sports', { ...settings, feedbackCandidates: 2 }).relevance;
    const first = embedUser(index, query!, 'sports', { ...settings, feedbackWeight: 0 }).relevance;
    const candidates = [...first.keys()].sort((left, right) => first[right]! - first[left]!).slice(0, 2);
    const floor = Math.min(...candidates.map((item) => limited[item]!));
    for (const item of candidates) expect(limited[item]).toBeCloseTo(full[item]!, 5);
    limited.forEach((value, item) => {
      if (!candidates.includes(item)) expect(value).toBeLessThanOrEqual(floor);
    });
  });
});

describe('buildUserIndex', () => {
  it('keeps per-kind vectors, a unit user vector and typed-signal facts', async () => {
    const index = await indexOf(items);
    expect([...index.kindVectors.keys()].sort()).toEqual(['message', 'post', 'purchase']);
    expect(Math.hypot(...index.userVector)).toBeCloseTo(1, 5);
    expect(index.signals.ratings).toEqual({ count: 1, mean: 5, minimum: 5, maximum: 5 });
    expect(index.signals.kinds[0]).toEqual({ value: 'post', count: 2 });
  });

  it('refuses vectors from another encoder', async () => {
    const index = await indexOf(items);
    expect(() => buildUserIndex(index.items, encoder.dim, 'other-encoder')).toThrow(/cannot be mixed/);
  });
});
