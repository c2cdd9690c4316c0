import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { HistoryItemInput } from '@userplug/core';
import { describe, expect, it } from 'vitest';
import { createBm25Retriever } from './create-bm25-retriever.js';
import { loadPersonaBench } from './load-personabench.js';
import type { Retriever } from './retriever.js';
import { runPersonaBenchRetrieval } from './run-personabench-retrieval.js';

// The real release is read from ../shared at run time (CC BY-NC-SA: never copied into the repo).
const root =
  process.env.USERPLUG_PERSONABENCH_DIR ?? join(import.meta.dirname, '../../../../shared/data/personabench');
const present = existsSync(join(root, 'eval_data', 'eval_data_v1', 'synthetic_data', 'community_0'));
if (!present) console.warn(`Skipping PersonaBench real-data tests: no release at ${root}.`);

describe.skipIf(!present)('PersonaBench community_0 (real data)', () => {
  it('loads every noise level with the documented counts and evidence inside each person’s own sessions', async () => {
    const expected: Record<string, [number, number, number]> = {
      '0.0': [213, 43, 8],
      '0.3': [281, 74, 21],
      '0.5': [404, 100, 24],
      '0.7': [704, 184, 70],
    };
    let firstNames: string[] | undefined;
    for (const [noise, counts] of Object.entries(expected)) {
      const dataset = await loadPersonaBench({ root, community: 0, noise });
      // Three people, in the same order at every noise level.
      const names = dataset.people.map((person) => person.name);
      expect(new Set(names).size).toBe(3);
      firstNames ??= names;
      expect(names).toEqual(firstNames);
      const kinds = ['conversation', 'user-ai-interaction', 'purchase-history'].map(
        (kind) =>
          dataset.people.flatMap((person) => person.sessions).filter((session) => session.kind === kind)
            .length,
      );
      expect(kinds).toEqual(counts);
      expect(dataset.people.reduce((sum, person) => sum + person.questions.length, 0)).toBe(133);
      for (const person of dataset.people) {
        const own = new Set(person.sessions.map((session) => session.segmentId));
        for (const question of person.questions) {
          for (const ids of Object.values(question.evidence))
            for (const id of ids) expect(own.has(id)).toBe(true);
        }
      }
    }
  });

  it('scores a gold-evidence oracle at 1 and BM25 within range, with the official category counts', async () => {
    const dataset = await loadPersonaBench({ root, community: 0, noise: 0.5 });
    const evidenceByQuestion = new Map(
      dataset.people.flatMap((person) =>
        person.questions.map(
          (question) => [`${person.name}\u0000${question.question}`, question.evidence] as const,
        ),
      ),
    );
    // Test-only oracle that reads the gold evidence: checks the scoring pipeline end to end.
    const oracle: Retriever = {
      name: 'oracle',
      async encoderId() {
        return undefined;
      },
      async index(documents: readonly HistoryItemInput[], context) {
        const person = context.userId.slice(context.userId.lastIndexOf('/') + 1);
        return {
          ids: documents.map((document) => String(document.id)),
          async search(query, limit) {
            const evidence = evidenceByQuestion.get(`${person}\u0000${query}`) ?? {};
            return Object.values(evidence)
              .map((ids) => ids[0]!)
              .slice(0, limit);
          },
          async close() {},
        };
      },
      async dispose() {},
    };
    const perfect = await runPersonaBenchRetrieval({ dataset, retriever: oracle, k: 5 });
    expect(perfect.n).toBe(116);
    expect(perfect.recall).toBe(1);
    expect(perfect.ndcg).toBeCloseTo(1, 12);
    expect(
      Object.fromEntries(Object.entries(perfect.byCategory).map(([key, group]) => [key, group.n])),
    ).toEqual({
      Basic_information_easy: 57,
      Preference_easy: 7,
      Preference_hard: 26,
      Social_easy: 26,
    });
    const bm25 = await runPersonaBenchRetrieval({ dataset, retriever: createBm25Retriever(), k: 5 });
    expect(bm25.recall).toBeGreaterThan(0.1);
    expect(bm25.recall).toBeLessThan(1);
    expect(bm25.questions.every((question) => question.retrieved.length === 5)).toBe(true);
  });
});
