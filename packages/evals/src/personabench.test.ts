import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHashingEncoder, type HistoryItemInput } from '@userplug/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBm25Retriever } from './create-bm25-retriever.js';
import { createMethodRetriever, retrievalMethods } from './create-method-retriever.js';
import { listPersonaBench, loadPersonaBench, parsePersonaBenchTime } from './load-personabench.js';
import { fixtureIds, writePersonaBenchFixture } from './personabench.fixture.js';
import { answerTurnRecall, answerTurns } from './personabench-answer-turns.js';
import {
  numpyStringArrayStr,
  officialChunkText,
  officialQaPrompt,
  pythonJsonDumps,
} from './personabench-official-text.js';
import {
  answerWords,
  cleanAnswerText,
  pythonStr,
  summarizeQa,
  wordSetScores,
} from './personabench-qa-metrics.js';
import {
  expandEvidenceCombinations,
  officialCategory,
  roundOfficial,
  scoreCombination,
  scoreRetrieval,
} from './personabench-retrieval-metrics.js';
import type { Retriever } from './retriever.js';
import { runEvalCli } from './run-eval-cli.js';
import { goldContextIds, runPersonaBenchQa } from './run-personabench-qa.js';
import { runPersonaBenchRetrieval } from './run-personabench-retrieval.js';
import { segmentOfTurn, sessionToHistoryItem, sessionToTurnItems } from './session-to-history-item.js';

const gain = (rank: number) => 1 / Math.log2(rank + 1);
const ids = fixtureIds;

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'userplug-personabench-'));
  writePersonaBenchFixture(root);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A retriever that returns fixed rankings by question text and records what it was given. */
function fixedRetriever(rankings: Record<string, string[]>, seen: Map<string, string[]>): Retriever {
  return {
    name: 'fixed',
    async encoderId() {
      return undefined;
    },
    async index(documents: readonly HistoryItemInput[], context) {
      seen.set(
        context.userId,
        documents.map((document) => String(document.id)),
      );
      return {
        ids: documents.map((document) => String(document.id)),
        async search(query, limit) {
          return (rankings[query] ?? []).slice(0, limit);
        },
        async close() {},
      };
    },
    async dispose() {},
  };
}

const rankings: Record<string, string[]> = {
  'Where does my sister live?': [ids.adaDog, ids.adaSister, ids.adaVegan],
  "What is my dog's name?": [ids.adaDog, ids.adaSister, ids.adaVegan],
  'What do I like?': [ids.adaSister, ids.adaShoes, ids.adaVegan],
  'Am I happy?': [ids.adaVegan, ids.adaShoes, ids.adaSister],
  'How old am I?': [ids.adaVegan, ids.adaShoes, ids.adaDog],
  'Which club am I in?': [ids.bramPortuguese, ids.bramClock, ids.bramChess],
  'What language am I learning?': [ids.bramChess, ids.bramClock, ids.bramPortuguese],
};

describe('PersonaBench scorer math (official eval.py)', () => {
  it('scores one combination: recall over distinct evidence, NDCG with ideal min(|evidence|, K) hits', () => {
    expect(scoreCombination(['x', 'a', 'y', 'z', 'w'], ['a'], 5)).toEqual({ recall: 1, ndcg: gain(2) });
    const both = scoreCombination(['b', 'x', 'c', 'y', 'z'], ['b', 'c'], 5);
    expect(both.recall).toBe(1);
    expect(both.ndcg).toBeCloseTo((gain(1) + gain(3)) / (gain(1) + gain(2)), 12);
    // Duplicate evidence ids count once; the ranking is cut at K before scoring.
    expect(scoreCombination(['x', 'a'], ['a', 'a'], 1)).toEqual({ recall: 0, ndcg: 0 });
    expect(scoreCombination(['x', 'a'], ['a', 'a'], 2)).toEqual({ recall: 1, ndcg: gain(2) });
    expect(scoreCombination(['a', 'b', 'c'], [], 3)).toEqual({ recall: 0, ndcg: 0 });
  });

  it('expands multi-part evidence to every combination, one id per part', () => {
    expect(expandEvidenceCombinations({ p: ['a', 'b'], q: ['c'] })).toEqual([
      ['a', 'c'],
      ['b', 'c'],
    ]);
    expect(expandEvidenceCombinations({ p: ['a'], q: [] })).toEqual([]);
  });

  it('takes the best recall and the best NDCG over the combinations of a multi-part answer', () => {
    const evidence = { 'vegan food': ['v'], 'trail running': ['s', 'm'] };
    // {v, s}: ranks 3 and 2; {v, m}: ranks 3 and 1 (the better NDCG).
    const score = scoreRetrieval(['m', 's', 'v'], evidence, 3);
    expect(score.recall).toBe(1);
    expect(score.ndcg).toBeCloseTo((gain(1) + gain(3)) / (gain(1) + gain(2)), 12);
    expect(score.ndcg).toBeCloseTo(0.919721, 6);
    const cut = scoreRetrieval(['m', 's', 'v'], evidence, 2);
    expect(cut.recall).toBe(0.5);
    expect(cut.ndcg).toBeCloseTo(gain(1) / (gain(1) + gain(2)), 12);
  });

  it('names categories as the official script and rounds like Python', () => {
    expect(officialCategory('Basic information', 'hard')).toBe('Basic_information_easy');
    expect(officialCategory('Preference', 'hard')).toBe('Preference_hard');
    expect(officialCategory('Social', 'hard')).toBe('Social_easy');
    expect([0.0625, 0.0005, 0.1875, 0.3125, 2 / 3].map(roundOfficial)).toEqual([
      0.062, 0.001, 0.188, 0.312, 0.667,
    ]);
  });
});

describe('PersonaBench loader', () => {
  it('lists any community number and its noise levels', () => {
    const listing = listPersonaBench(root);
    expect(listing.communities).toEqual([{ name: 'community_7', number: 7, noiseLevels: ['0.0', '0.5'] }]);
  });

  it('loads people with documents, sessions keyed by segment id and evidence of the same noise level', async () => {
    const dataset = await loadPersonaBench({ root, community: 7, noise: 0.5 });
    expect(dataset.people.map((person) => person.name)).toEqual(['Ada Quill', 'Bram Otter']);
    const ada = dataset.people[0]!;
    expect(ada.persona).toBe('A marine biologist who runs trails.');
    expect(ada.sessions.map((session) => `${session.kind}:${session.segmentId}`)).toEqual([
      'conversation:190000000001',
      'conversation:190000000002',
      'user-ai-interaction:190000000003',
      'user-ai-interaction:100000000099',
      'purchase-history:190000000004',
    ]);
    expect(ada.questions.find((question) => question.qId === 'a3')!.evidence).toEqual({
      'vegan food': ['190000000003'],
      'trail running': ['190000000004', '190000000001'],
    });
    const atZero = await loadPersonaBench({ root, community: 'community_7', noise: '0.0' });
    expect(atZero.people[0]!.sessions).toHaveLength(4);
    await expect(loadPersonaBench({ root, community: 7, noise: 0.3 })).rejects.toThrow(/Available: 0.0, 0.5/);
    await expect(loadPersonaBench({ root, community: 1, noise: 0.5 })).rejects.toThrow(/community_7/);
  });

  it('parses release times as UTC', () => {
    expect(parsePersonaBenchTime('2024/Oct/14/07:44 AM')).toBe(Date.UTC(2024, 9, 14, 7, 44));
    expect(parsePersonaBenchTime('2024/Nov/01/12:05 AM')).toBe(Date.UTC(2024, 10, 1, 0, 5));
    expect(parsePersonaBenchTime('2024/Nov/01/12:05 PM')).toBe(Date.UTC(2024, 10, 1, 12, 5));
  });

  it('writes a session as who, with whom, when and what', async () => {
    const dataset = await loadPersonaBench({ root, community: 7, noise: '0.0' });
    const [conversation, , chat, purchase] = dataset.people[0]!.sessions;
    const item = sessionToHistoryItem(conversation!);
    expect(item).toMatchObject({
      id: ids.adaSister,
      kind: 'conversation',
      timestamp: Date.UTC(2024, 9, 14, 7, 44),
    });
    expect(item.text.split('\n')).toEqual([
      'Conversation between Ada Quill and Bram Otter on Monday 14 October 2024 at 7:44 AM',
      'Ada Quill: My sister Mira finally moved to Lisbon, she loves the trams.',
      'Bram Otter: Lisbon! Will you visit her soon?',
      'Ada Quill: In spring, after my 41st birthday. I will run the coastal trail there.',
    ]);
    expect(sessionToHistoryItem(chat!).text.split('\n')[1]).toBe(
      'Ada Quill: Can you suggest vegan dinners? I stopped eating meat last year.',
    );
    expect(sessionToHistoryItem(purchase!).text.split('\n')).toEqual([
      'Purchases by Ada Quill on Wednesday 16 October 2024 at 11:47 AM',
      'Bought Stride Trail Runner 3 (Stride; Sports > Running > Shoes): Grippy trail running shoes.',
      'Bought Headlamp 300 (Lumo; Sports): For early runs.',
    ]);
  });
});

describe('PersonaBench official text', () => {
  it('writes chunks as the official compact, ASCII-only JSON without segment_id and session', async () => {
    const dataset = await loadPersonaBench({ root, community: 7, noise: '0.0' });
    const dog = dataset.people[0]!.sessions[1]!;
    expect(officialChunkText(dog)).toBe(
      '{"time":"2024/Oct/20/12:10 PM","target_name":"Cleo Stone","conversation":[{"role":"Cleo Stone","content":"How is the new greyhound?"},' +
        '{"role":"Ada Quill","content":"Pixel is great, he sleeps all day \\u2014 caf\\u00e9 naps, I call them."}]}',
    );
    expect(pythonJsonDumps({ a: 'x\ny', b: '😀' })).toBe('{"a":"x\\ny","b":"\\ud83d\\ude00"}');
  });

  it('formats the context as str() of a numpy array (checked against numpy)', () => {
    const chunk = pythonJsonDumps({
      time: '2024/Oct/14/07:44 AM',
      conversation: [{ role: 'Ada', content: 'It\'s café "time"' }],
    });
    expect(numpyStringArrayStr([chunk, 'short one', 'x'.repeat(80)])).toBe(
      `['{"time":"2024/Oct/14/07:44 AM","conversation":[{"role":"Ada","content":"It\\'s caf\\\\u00e9 \\\\"time\\\\""}]}'\n 'short one'\n '${'x'.repeat(80)}']`,
    );
    expect(numpyStringArrayStr(['a', 'b', 'c'])).toBe("['a' 'b' 'c']");
    expect(numpyStringArrayStr(["it's", 'say "hi"', 'both \' and "'])).toBe(
      `["it's" 'say "hi"' 'both \\' and "']`,
    );
    expect(officialQaPrompt('Q?', ['a'])).toBe(
      "You are provided with the following relevant information: ['a'].\nAnswer the question below as directly and concisely as possible, using only the name(s) of the relevant entity or entities. Avoid adding any extra words or explanations.\n\nQuestion: Q?",
    );
  });
});

describe('PersonaBench retrieval run', () => {
  it('scores fixed rankings exactly as computed by hand, searching only the asking person', async () => {
    const dataset = await loadPersonaBench({ root, community: 7, noise: '0.0' });
    const seen = new Map<string, string[]>();
    const result = await runPersonaBenchRetrieval({
      dataset,
      retriever: fixedRetriever(rankings, seen),
      k: 3,
    });
    expect([...seen.entries()]).toEqual([
      ['community_7/noise_0.0/Ada Quill', [ids.adaSister, ids.adaDog, ids.adaVegan, ids.adaShoes]],
      ['community_7/noise_0.0/Bram Otter', [ids.bramChess, ids.bramPortuguese, ids.bramClock]],
    ]);
    const a1 = gain(2);
    const a3 = (gain(1) + gain(3)) / (gain(1) + gain(2));
    const b1 = gain(2);
    const b2 = gain(3);
    expect(result.n).toBe(6);
    expect(result.recall).toBeCloseTo(5 / 6, 12);
    expect(result.ndcg).toBeCloseTo((a1 + 1 + a3 + 0 + b1 + b2) / 6, 12);
    expect(result.byType['Basic information']).toEqual({ recall: 2 / 3, ndcg: (1 + 0 + b2) / 3, n: 3 });
    expect(result.byType.Preference!.ndcg).toBeCloseTo((a3 + b1) / 2, 12);
    expect(result.byType.Social).toEqual({ recall: 1, ndcg: a1, n: 1 });
    expect(result.byType.Subjective).toBeUndefined();
    expect(Object.keys(result.byCategory)).toEqual([
      'Basic_information_easy',
      'Preference_easy',
      'Preference_hard',
      'Social_easy',
    ]);
    expect(result.official.Overall).toEqual({ ave_recall: 0.833, ave_ndcg: roundOfficial(result.ndcg) });
    expect(result.questions.find((question) => question.qId === 'a3')!.retrieved).toEqual(
      rankings['What do I like?'],
    );
  });

  it('runs BM25 on the fixture and finds the lexical matches', async () => {
    const dataset = await loadPersonaBench({ root, community: 7, noise: 0.5 });
    const result = await runPersonaBenchRetrieval({ dataset, retriever: createBm25Retriever(), k: 1 });
    const top = Object.fromEntries(result.questions.map((question) => [question.qId, question.retrieved[0]]));
    expect(top.a1).toBe('190000000001');
    expect(top.b1).toBe('290000000001');
  });

  it('runs every method end to end (hashing encoder) and ranks all sessions of a person', async () => {
    const dataset = await loadPersonaBench({ root, community: 7, noise: 0.5 });
    const encoder = createHashingEncoder();
    for (const method of Object.keys(retrievalMethods) as (keyof typeof retrievalMethods)[]) {
      const retriever = createMethodRetriever(method, { encoder });
      const result = await runPersonaBenchRetrieval({ dataset, retriever, k: 10 });
      await retriever.dispose();
      expect(result.method).toBe(method);
      for (const question of result.questions) {
        expect(new Set(question.retrieved).size).toBe(question.person === 'Ada Quill' ? 5 : 4);
      }
      expect(result.recall).toBe(1);
    }
  });
});

describe('PersonaBench turns view and persona evidence recall', () => {
  it('writes each message as a turn with speaker, session, conversation, time and self', async () => {
    const dataset = await loadPersonaBench({ root, community: 7, noise: '0.0' });
    const ada = dataset.people[0]!;
    const turns = ada.sessions.flatMap(sessionToTurnItems);
    expect(turns.slice(0, 3)).toEqual([
      {
        id: `${ids.adaSister}:0`,
        text: 'My sister Mira finally moved to Lisbon, she loves the trams.',
        speaker: 'Ada Quill',
        self: true,
        conversationId: 'with Bram Otter',
        sessionId: ids.adaSister,
        kind: 'conversation',
        timestamp: Date.UTC(2024, 9, 14, 7, 44),
      },
      expect.objectContaining({ id: `${ids.adaSister}:1`, speaker: 'Bram Otter', sessionId: ids.adaSister }),
      expect.objectContaining({ id: `${ids.adaSister}:2`, speaker: 'Ada Quill', self: true }),
    ]);
    expect(turns[1]).not.toHaveProperty('self');
    const assistant = turns.filter((turn) => turn.sessionId === ids.adaVegan);
    expect(assistant.map((turn) => [turn.speaker, turn.self ?? false])).toEqual([
      ['Ada Quill', true],
      ['AI assistant', false],
    ]);
    const purchase = turns.filter((turn) => turn.sessionId === ids.adaShoes);
    expect(purchase.length).toBeGreaterThan(0);
    expect(purchase.every((turn) => turn.speaker === undefined && turn.text.startsWith('Bought '))).toBe(
      true,
    );
    expect(segmentOfTurn(`${ids.adaShoes}:3`)).toBe(ids.adaShoes);
  });

  it('reads a turn ranking back as sessions, and scores what the persona quotes at each budget', async () => {
    const dataset = await loadPersonaBench({ root, community: 7, noise: '0.0' });
    const budgets: number[] = [];
    const turnRetriever: Retriever = {
      name: 'turns',
      async encoderId() {
        return undefined;
      },
      async index(documents) {
        const turnIds = documents.map((document) => String(document.id));
        return {
          ids: turnIds,
          // Turns of the sister conversation first, then the dog's, then everything else.
          async search(_query, limit) {
            const order = [
              `${ids.adaSister}:2`,
              `${ids.adaSister}:0`,
              `${ids.adaDog}:1`,
              ...turnIds.filter((id) => !id.startsWith(ids.adaSister) && !id.startsWith(ids.adaDog)),
            ];
            return order.filter((id) => turnIds.includes(id)).slice(0, limit);
          },
          async persona(_query, budget) {
            budgets.push(budget);
            return {
              itemIds:
                budget < 200
                  ? [`${ids.adaDog}:1`]
                  : [`${ids.adaDog}:1`, `${ids.adaSister}:0`, `${ids.adaSister}:1`],
              tokens: budget - 1,
            };
          },
          async close() {},
        };
      },
      async dispose() {},
    };
    const result = await runPersonaBenchRetrieval({
      dataset,
      retriever: turnRetriever,
      k: 2,
      view: 'turns',
      personaBudgets: [150, 300],
    });
    expect(result.view).toBe('turns');
    const a1 = result.questions.find((question) => question.qId === 'a1')!;
    // The sister session appears once, at its best turn, then the dog's.
    expect(a1.retrieved).toEqual([ids.adaSister, ids.adaDog]);
    expect(a1.recall).toBe(1);
    expect(a1.persona).toEqual([
      { budget: 150, recall: 0, tokens: 149, quoted: 1 },
      { budget: 300, recall: 1, tokens: 299, quoted: 2 },
    ]);
    // "Where does my sister live?" → "Lisbon": two turns of the evidence say it; the ranking holds one of them.
    expect(a1.answerTurns).toEqual({
      count: 2,
      recallAt5: 0.5,
      recallAt10: 0.5,
      persona: [
        { budget: 150, recall: 0 },
        { budget: 300, recall: 1 },
      ],
    });
    expect(result.persona?.map((entry) => entry.budget)).toEqual([150, 300]);
    expect(result.persona![1]!.tokens).toBe(299);
    expect(budgets.length).toBe(2 * result.questions.length);
  });

  it('finds the turns that state an answer, ignoring case, punctuation and parts of words', () => {
    const question = {
      qId: 'q',
      person: 'P',
      question: 'Which languages?',
      type: 'Basic information',
      difficulty: 'easy',
      answer: [{ Language: 'Portuguese' }, 'N/A'],
      outdatedValue: null,
      evidence: { Portuguese: ['s1'] },
    };
    const turns = [
      { id: 's1:0', text: 'Learning PORTUGUESE, slowly!' },
      { id: 's1:1', text: 'Portuguesestyle tarts' },
      { id: 's2:0', text: 'Portuguese again, but not in the evidence' },
    ];
    expect([...answerTurns(question, turns)]).toEqual(['s1:0']);
    expect(answerTurnRecall(['s1:0', 's1:0', 's2:0'], new Set(['s1:0', 's1:1']))).toBe(0.5);
  });

  it('runs the userplug persona at a budget on the turns view end to end (hashing encoder)', async () => {
    const dataset = await loadPersonaBench({ root, community: 7, noise: 0.5 });
    const retriever = createMethodRetriever('userplug', { encoder: createHashingEncoder() });
    const result = await runPersonaBenchRetrieval({
      dataset,
      retriever,
      k: 5,
      view: 'turns',
      personaBudgets: [300],
    });
    await retriever.dispose();
    expect(result.persona).toHaveLength(1);
    expect(result.persona![0]!.tokens).toBeLessThanOrEqual(300);
    expect(result.persona![0]!.tokens).toBeGreaterThan(0);
    // A tiny history fits a 300-token persona whole: every session is quoted.
    expect(result.persona![0]!.recall).toBe(1);
    expect(result.recall).toBe(1);
  });
});

describe('PersonaBench end-to-end QA metrics (official calculate_qa_scores)', () => {
  it('cleans text as the official clean_text: non-ASCII letters and punctuation dropped, not spaced', () => {
    expect(cleanAnswerText('  Café-au-lait, São Paulo!  ')).toBe('cafaulait so paulo');
    expect([...answerWords('The  New-York\tTimes')]).toEqual(['the', 'newyork', 'times']);
    expect(pythonStr({ Height: '5\'6"' })).toBe("{'Height': '5\\'6\"'}");
    expect(wordSetScores(new Set(['a', 'b']), new Set())).toEqual({ precision: 0, recall: 0, f1: 0 });
  });

  it('scores answers by hand-computed word sets, skips Subjective, reports outdated recall', async () => {
    const dataset = await loadPersonaBench({ root, community: 7, noise: '0.0' });
    const predictions: Record<string, string> = {
      'Where does my sister live?': 'She lives in Lisbon, Portugal.',
      "What is my dog's name?": 'Pixel',
      'What do I like?': 'Vegan food',
      'Am I happy?': 'yes',
      'How old am I?': '41 years',
      'Which club am I in?': 'the book club',
      'What language am I learning?': 'Portuguese',
    };
    const prompts: string[] = [];
    const result = await runPersonaBenchQa({
      dataset,
      context: fixedRetriever(rankings, new Map()),
      k: 3,
      model: 'fake',
      generate: async (prompt) => {
        prompts.push(prompt);
        return predictions[prompt.slice(prompt.lastIndexOf('Question: ') + 10)]!;
      },
    });
    expect(prompts).toHaveLength(7);
    expect(prompts[0]).toContain('{"time":"2024/Oct/20/12:10 PM"');
    const f1 = [1 / 3, 1, 2 / 3, 2 / 3, 0.4, 2 / 3];
    const precision = [1 / 5, 1, 1, 1 / 2, 1 / 3, 1];
    const recall = [1, 1, 1 / 2, 1, 1 / 2, 1 / 2];
    const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
    expect(result.n).toBe(6);
    expect(result.f1).toBeCloseTo(mean(f1), 12);
    expect(result.precision).toBeCloseTo(mean(precision), 12);
    expect(result.recall).toBeCloseTo(mean(recall), 12);
    expect(result.outdated).toEqual({ recall: 0.5, n: 2 });
    expect(result.byCategory.Preference_easy!.f1).toBeCloseTo(0.4, 12);
    expect(result.usage.calls).toBe(7);
    expect(result.usage.inputTokens).toBeGreaterThan(0);
    // The official script's int-answer quirk: an int gold answer reuses the previous question's words.
    const official = summarizeQa(
      [
        {
          type: 'Preference',
          difficulty: 'hard',
          answer: ['vegan food'],
          outdatedValue: null,
          prediction: 'vegan food',
        },
        { type: 'Basic information', difficulty: 'easy', answer: 41, outdatedValue: null, prediction: '41' },
      ],
      { numberAnswers: 'official' },
    );
    expect(official.f1).toBe(0.5);
  });

  it('builds the official ground-truth context: first id per part, repeated to fill K', () => {
    expect(goldContextIds({ qId: 'q', evidence: { x: ['a', 'z'], y: ['b'] } }, 5)).toEqual([
      'a',
      'b',
      'a',
      'b',
      'a',
    ]);
    expect(() => goldContextIds({ qId: 'q', evidence: { x: ['a'], y: ['b'] } }, 1)).toThrow(/more than K/);
  });
});

describe('userplug-eval personabench', () => {
  it('prints the fixed JSON interface and writes a stable result file', async () => {
    const results = mkdtempSync(join(tmpdir(), 'userplug-results-'));
    let stdout = '';
    let stderr = '';
    const io = {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
    };
    const args = ['personabench', '--data', root, '--community', '7', '--noise', '0.5', '--k', '5'];
    const code = await runEvalCli([...args, '--method', 'bm25', '--json', '--results', results], io);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const printed = JSON.parse(stdout) as Record<string, unknown>;
    expect(printed).toMatchObject({ n: 6, k: 5, method: 'bm25', community: 'community_7', noise: '0.5' });
    expect(Object.keys(printed.byType as object).sort()).toEqual([
      'Basic information',
      'Preference',
      'Social',
    ]);
    expect(readdirSync(results)).toEqual(['personabench-community-7-noise-0.5-k5-bm25.json']);
    expect(JSON.parse(readFileSync(join(results, readdirSync(results)[0]!), 'utf8'))).toEqual(printed);
    stdout = '';
    expect(await runEvalCli([...args, '--method', 'userplug', '--encoder', 'hashing', '--no-save'], io)).toBe(
      0,
    );
    expect(stdout).toMatch(/Overall\s+\d\.\d{3}\s+\d\.\d{3}\s+6/);
    stdout = '';
    stderr = '';
    expect(await runEvalCli([...args, '--method', 'nope'], io)).toBe(2);
    expect(stderr).toContain('Unknown --method "nope"');
    stderr = '';
    expect(await runEvalCli([...args, '--method', 'bm25', '--qa'], io)).toBe(2);
    expect(stderr).toContain('Generation needs a model');
    stderr = '';
    const key = process.env.OPENAI_API_KEY;
    delete process.env.OPENAI_API_KEY;
    try {
      const qa = [...args, '--method', 'bm25', '--qa', '--model', 'openai:gpt-4o-mini'];
      expect(await runEvalCli(qa, io)).toBe(1);
      expect(stderr).toMatch(/OPENAI_API_KEY/);
    } finally {
      if (key !== undefined) process.env.OPENAI_API_KEY = key;
    }
    stderr = '';
    expect(await runEvalCli([...args, '--method', 'bm25', '--qa', '--model', 'mystery:model'], io)).toBe(1);
    expect(stderr).toContain('Unknown model "mystery:model"');
    rmSync(results, { recursive: true, force: true });
  });
});
