// Before/after evidence of self-supervised training on PersonaBench retrieval (noise 0.5, community_0).
// Training reads the people's sessions only (ids renamed, no question, no evidence); questions are scored
// afterwards with the official protocol, untrained and trained, in this one process (the same core).
// Run: node --conditions=@userplug/source --import tsx packages/train/bench/personabench-evidence.ts
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TrainedArtifact } from '@userplug/core';
import { maxPieceWordsFor } from '@userplug/core/internal';
import {
  createUserplugRetriever,
  loadEvalEncoder,
  loadPersonaBench,
  type PersonaBenchDataset,
  type PersonaBenchRetrievalResult,
  runPersonaBenchRetrieval,
  sessionToHistoryItem,
  summarizeRetrieval,
} from '@userplug/evals';
import { embedHistories, type LearnedParts, trainSelfSupervised } from '@userplug/train';

const noise = process.env.NOISE ?? '0.5';
const root = process.env.PERSONABENCH ?? '../shared/data/personabench';
const dataset = await loadPersonaBench({ root, community: 0, noise });
const encoder = await loadEvalEncoder();
const maxPieceWords = maxPieceWordsFor(encoder);

// Sessions as the retriever indexes them, with ids renamed: no segment id (the key of the gold evidence) reaches training.
const rawHistories = dataset.people.map((person) => ({
  userId: person.name,
  items: person.sessions.map((session, row) => ({
    ...sessionToHistoryItem(session),
    id: `s${row}`,
    meta: {},
  })),
}));
const serialized = JSON.stringify(rawHistories);
const questions = dataset.people.flatMap((person) => person.questions);
const checks = {
  trainingItems: rawHistories.reduce((sum, history) => sum + history.items.length, 0),
  questionTextsFoundInTrainingText: questions.filter((question) => serialized.includes(question.question))
    .length,
  evidenceIdsFoundInTrainingData: [
    ...new Set(questions.flatMap((question) => Object.values(question.evidence).flat())),
  ].filter((id) => serialized.includes(`"${id}"`)).length,
  questionsOrEvidenceReadByTraining: false,
};
const embedded = await embedHistories({ histories: rawHistories, encoder });
const byPerson = new Map(embedded.map((history) => [history.userId, history]));

function summary(result: PersonaBenchRetrievalResult) {
  return {
    recall: result.recall,
    ndcg: result.ndcg,
    n: result.n,
    byType: Object.fromEntries(
      Object.entries(result.byType).map(([type, value]) => [
        type,
        { recall: value.recall, ndcg: value.ndcg, n: value.n },
      ]),
    ),
  };
}

async function retrieval(subset: PersonaBenchDataset, trained: TrainedArtifact | undefined) {
  const retriever = createUserplugRetriever({ encoder, ...(trained ? { trained } : {}) });
  try {
    return await runPersonaBenchRetrieval({ dataset: subset, retriever, k: 5 });
  } finally {
    await retriever.dispose();
  }
}

const variants: Record<string, { rank?: number; learn?: LearnedParts; contrastiveCentring?: 'user' }> = {
  default: {},
  'scalars-only': { rank: 0 },
  'query-transform-only': {
    learn: {
      temperature: false,
      lexicalWeight: false,
      recency: false,
      kindPriors: false,
      hubnessWeight: false,
    },
  },
  'user-centred-contrastive': { contrastiveCentring: 'user' },
};

interface Run {
  setting: 'all-three-people' | 'leave-one-person-out';
  variant: string;
  seed: number;
  before: ReturnType<typeof summary>;
  after: ReturnType<typeof summary>;
  folds?: { testPerson: string; trainPeople: string[]; bestEpoch: number; before: number; after: number }[];
  bestEpoch?: number;
  trainExamples: number;
  validationLoss?: { untrained: number; best: number };
  learnedAttention?: TrainedArtifact['attention'];
  trainingSeconds: number;
}

const runs: Run[] = [];
const seeds = (process.env.SEEDS ?? '1,2,3').split(',').map(Number);
const started = performance.now();
for (const [variant, options] of Object.entries(variants)) {
  for (const seed of variant === 'default' ? seeds : [seeds[0]!]) {
    // Setting 1: train on all three people's sessions; test on their questions (never read in training).
    const clock = performance.now();
    const result = await trainSelfSupervised({ histories: embedded, maxPieceWords, seed, ...options });
    const trainingSeconds = (performance.now() - clock) / 1000;
    const before = await retrieval(dataset, undefined);
    const after = await retrieval(dataset, result.artifact);
    runs.push({
      setting: 'all-three-people',
      variant,
      seed,
      before: summary(before),
      after: summary(after),
      bestEpoch: result.bestEpoch,
      trainExamples: result.examples.train,
      validationLoss: {
        untrained: result.history[0]!.validationLoss,
        best: result.history[result.bestEpoch]!.validationLoss,
      },
      learnedAttention: result.artifact.attention,
      trainingSeconds,
    });
    console.error(
      `${variant} seed ${seed} all-three: R@5 ${before.recall.toFixed(3)} → ${after.recall.toFixed(3)}, NDCG@5 ${before.ndcg.toFixed(3)} → ${after.ndcg.toFixed(3)} (best epoch ${result.bestEpoch})`,
    );
    if (seed !== seeds[0]) continue;
    // Setting 2: leave one person out: train on two people's sessions, test on the third's questions.
    const folds: NonNullable<Run['folds']> = [];
    const beforeQuestions: PersonaBenchRetrievalResult['questions'] = [];
    const afterQuestions: PersonaBenchRetrievalResult['questions'] = [];
    let foldSeconds = 0;
    let foldExamples = 0;
    for (const person of dataset.people) {
      const trainPeople = dataset.people.filter((other) => other !== person).map((other) => other.name);
      const foldClock = performance.now();
      const fold = await trainSelfSupervised({
        histories: trainPeople.map((name) => byPerson.get(name)!),
        maxPieceWords,
        seed,
        ...options,
      });
      foldSeconds += (performance.now() - foldClock) / 1000;
      foldExamples += fold.examples.train;
      const subset = { ...dataset, people: [person] };
      const foldBefore = await retrieval(subset, undefined);
      const foldAfter = await retrieval(subset, fold.artifact);
      beforeQuestions.push(...foldBefore.questions);
      afterQuestions.push(...foldAfter.questions);
      folds.push({
        testPerson: person.name,
        trainPeople,
        bestEpoch: fold.bestEpoch,
        before: foldBefore.recall,
        after: foldAfter.recall,
      });
    }
    // The official summary (Subjective questions skipped) over the pooled questions of the three folds.
    const pooled = (list: PersonaBenchRetrievalResult['questions']) => {
      const result = summarizeRetrieval(list);
      return {
        recall: result.recall,
        ndcg: result.ndcg,
        n: result.n,
        byType: Object.fromEntries(
          Object.entries(result.byType).map(([type, value]) => [
            type,
            { recall: value.recall, ndcg: value.ndcg, n: value.n },
          ]),
        ),
      };
    };
    const lopoBefore = pooled(beforeQuestions);
    const lopoAfter = pooled(afterQuestions);
    runs.push({
      setting: 'leave-one-person-out',
      variant,
      seed,
      before: lopoBefore,
      after: lopoAfter,
      folds,
      trainExamples: foldExamples,
      trainingSeconds: foldSeconds,
    });
    console.error(
      `${variant} seed ${seed} leave-one-out: R@5 ${lopoBefore.recall.toFixed(3)} → ${lopoAfter.recall.toFixed(3)}, NDCG@5 ${lopoBefore.ndcg.toFixed(3)} → ${lopoAfter.ndcg.toFixed(3)}`,
    );
  }
}

let commit = 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
} catch {}
const output = {
  benchmark: 'personabench',
  task: 'retrieval',
  community: dataset.community,
  noise,
  k: 5,
  encoder: encoder.id,
  method: 'userplug (core personalize attention), untrained vs with a self-supervised trained artifact',
  protocol:
    'Training: trainSelfSupervised on the sessions only (sessionToHistoryItem text, ids renamed), defaults (epochs 5, rank 4, lr 0.003, weight decay 0.1, batch 32, InfoNCE τ 0.07, margin 0.1, 10% of held-out items for picking the epoch). ' +
    'Evaluation: runPersonaBenchRetrieval (official Recall@5 / NDCG@5, Subjective skipped) with createUserplugRetriever, untrained and with the artifact, in the same process (same core). ' +
    'all-three-people: trained on the 3 people whose questions are scored; leave-one-person-out: each person scored with an artifact trained on the 2 others, questions pooled.',
  coreCommit: `${commit} (plus the working tree at the time of the run)`,
  checks,
  runs,
  durationSeconds: (performance.now() - started) / 1000,
  createdAt: new Date().toISOString(),
};
const directory = join('evals', 'results');
mkdirSync(directory, { recursive: true });
const path = join(directory, `train-personabench-noise-${noise}.json`);
writeFileSync(path, `${JSON.stringify(output, null, 2)}\n`);
console.error(`Wrote ${path} in ${output.durationSeconds.toFixed(0)} s.`);
await encoder.dispose();
