import { createPersonalizer, type PersonalizerSettings } from '@userplug/core';
import { documentIds, type Retriever } from './retriever.js';

/** Settings of {@link createUserplugRetriever}: the personalizer's settings, plus a name. */
export interface UserplugRetrieverSettings extends Omit<PersonalizerSettings, 'maxAttributions'> {
  /** Method name. Default `userplug`. */
  name?: string;
}

/**
 * The full query-aware user embedder of core: a user's documents are ingested into a personalizer
 * (default encoder unless `encoder` is given), the query is the prompt, and documents rank by their
 * attention weight in `personalize(...).persona.attributions` (all of them requested); `persona(query, budget)`
 * renders the persona text at a budget and reports the documents it quotes.
 */
export function createUserplugRetriever(settings: UserplugRetrieverSettings = {}): Retriever {
  const { name = 'userplug', ...personalizerSettings } = settings;
  const personalizer = createPersonalizer(personalizerSettings);
  return {
    name,
    async encoderId() {
      return (await personalizer.getEncoder()).id;
    },
    async index(documents, context) {
      const ids = documentIds(documents);
      const { userId } = context;
      await personalizer.forget(userId);
      await personalizer.ingest(userId, documents);
      const rowOf = new Map(ids.map((id, row) => [id, row]));
      const attributions = async (query: string) =>
        (await personalizer.personalize({ userId, prompt: query, maxAttributions: ids.length })).persona
          .attributions;
      return {
        ids,
        async score(query) {
          const scores = new Float64Array(ids.length);
          for (const attribution of await attributions(query)) {
            const row = rowOf.get(attribution.itemId);
            if (row !== undefined) scores[row] = attribution.weight;
          }
          return scores;
        },
        async search(query, limit) {
          return (await attributions(query)).slice(0, limit).map((attribution) => attribution.itemId);
        },
        async persona(query, budget) {
          const { persona, usage } = await personalizer.personalize({
            userId,
            prompt: query,
            budget,
            maxAttributions: 0,
          });
          return { itemIds: persona.evidence.flatMap((quote) => quote.itemIds), tokens: usage.personaTokens };
        },
        async close() {
          await personalizer.forget(userId);
        },
      };
    },
    async dispose() {
      await personalizer.dispose();
    },
  };
}
