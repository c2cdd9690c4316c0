import type { HistoryItemInput } from '@userplug/core';
import { createSeededRandom, mixSeed } from '@userplug/core/internal';
import type { TrainingHistory } from './training-data.js';

const topics: Record<string, string[]> = {
  hiking: ['trail', 'ridge', 'summit', 'boots', 'backpack', 'campsite', 'canyon', 'sunrise hike'],
  cooking: ['ramen', 'miso', 'pasta', 'recipe', 'oven', 'spices', 'dumplings', 'sourdough'],
  music: ['guitar', 'concert', 'album', 'vinyl', 'chords', 'band', 'festival', 'playlist'],
  travel: ['flight', 'hotel', 'Kyoto', 'passport', 'train pass', 'museum', 'itinerary', 'Lisbon'],
  gaming: ['console', 'raid', 'quest', 'controller', 'speedrun', 'multiplayer', 'boss fight', 'patch'],
  gardening: ['tomatoes', 'compost', 'seedlings', 'pruning', 'greenhouse', 'soil', 'basil', 'roses'],
};
const openers = ['Today I', 'This weekend I', 'Finally', 'Yesterday we', 'I think I', 'Last night I'];
const verbs = ['talked about', 'planned', 'tried', 'bought', 'wrote about', 'asked about'];
const kinds = ['post', 'chat', 'purchase'];

/**
 * Seeded synthetic histories for tests and demonstrations (not real data): each user's items revisit two or
 * three favourite topics, dated three days apart, so a later item is predictable from the earlier ones.
 */
export function syntheticHistories(options: {
  users: number;
  items: number;
  seed: number;
}): TrainingHistory[] {
  const names = Object.keys(topics);
  return Array.from({ length: options.users }, (_, user) => {
    const random = createSeededRandom(mixSeed(options.seed, 'histories', user));
    const favourites = random.shuffle([...names]).slice(0, 2 + random.below(2));
    const items: HistoryItemInput[] = Array.from({ length: options.items }, (_, row) => {
      const topic = favourites[random.below(favourites.length)]!;
      const words = topics[topic]!;
      const lines = Array.from(
        { length: 1 + random.below(3) },
        () =>
          `${openers[random.below(openers.length)]} ${verbs[random.below(verbs.length)]} the ${words[random.below(words.length)]} and the ${words[random.below(words.length)]}.`,
      );
      return {
        id: `${user}-${row}`,
        text: lines.join('\n'),
        kind: kinds[random.below(kinds.length)]!,
        timestamp: Date.UTC(2024, 0, 1) + row * 3 * 86_400_000,
      };
    });
    return { userId: `user-${user}`, items };
  });
}
