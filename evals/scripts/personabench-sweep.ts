// Compares settings of the `userplug` method on PersonaBench at every noise level, per person, with a
// leave-one-person-out check: for each person, the variant that scores best on the others, scored on them.
// Usage (from the repository root):
//   node --conditions=@userplug/source --import tsx evals/scripts/personabench-sweep.ts \
//     '{"default":{},"no-whitening":{"whitening":false}}' [DATA_DIR] [COMMUNITY] [OUT_JSON]
// Embeddings come from the evaluation's disk cache (evals/.cache/embeddings). With OUT_JSON, every variant's
// Recall@5 by noise level and person is also written there (evals/scripts/update-readme-tables.ts reads it).
import { writeFileSync } from 'node:fs';
import type { PersonalizerSettings } from '@userplug/core';
import { createUserplugRetriever } from '../../packages/evals/src/create-userplug-retriever.js';
import { loadEvalEncoder } from '../../packages/evals/src/load-eval-encoder.js';
import { listPersonaBench, loadPersonaBench } from '../../packages/evals/src/load-personabench.js';
import { runPersonaBenchRetrieval } from '../../packages/evals/src/run-personabench-retrieval.js';

type Variant = Omit<PersonalizerSettings, 'encoder' | 'maxAttributions'>;

const variants = JSON.parse(process.argv[2] ?? '{"default":{}}') as Record<string, Variant>;
const root = process.argv[3] ?? '../shared/data/personabench';
const community = Number(process.argv[4] ?? 0);
const outPath = process.argv[5];
const listing = listPersonaBench(root).communities.find((entry) => entry.number === community);
if (!listing) throw new Error(`No community_${community} under ${root}.`);
const datasets = await Promise.all(
  listing.noiseLevels.map((noise) => loadPersonaBench({ root, community, noise })),
);
const encoder = await loadEvalEncoder();
const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

// Recall@5 of every scored question, by variant, person and noise level.
const recalls = new Map<string, Map<string, Map<string, number[]>>>();
const overallByVariant: Record<string, Record<string, number>> = {};
for (const [name, settings] of Object.entries(variants)) {
  const byPerson = new Map<string, Map<string, number[]>>();
  const overall: string[] = [];
  for (const dataset of datasets) {
    const retriever = createUserplugRetriever({ ...settings, encoder });
    const result = await runPersonaBenchRetrieval({ dataset, retriever, k: 5 });
    await retriever.dispose();
    overall.push(`${dataset.noise}: ${result.recall.toFixed(3)}`);
    overallByVariant[name] = { ...overallByVariant[name], [dataset.noise]: result.recall };
    for (const question of result.questions) {
      if (question.type === 'Subjective') continue;
      const byNoise = byPerson.get(question.person) ?? new Map<string, number[]>();
      byPerson.set(question.person, byNoise);
      byNoise.set(dataset.noise, [...(byNoise.get(dataset.noise) ?? []), question.recall]);
    }
  }
  recalls.set(name, byPerson);
  const people = [...byPerson].map(
    ([person, byNoise]) => `${person} ${mean([...byNoise.values()].flat()).toFixed(3)}`,
  );
  process.stdout.write(`${name.padEnd(24)} ${overall.join('  ')}  | ${people.join(', ')}\n`);
}
await encoder.dispose();

// A variant's score on some people: the mean over noise levels of their mean Recall@5.
const score = (name: string, people: readonly string[]) => {
  const byPerson = recalls.get(name)!;
  return mean(
    datasets.map((dataset) =>
      mean(people.flatMap((person) => byPerson.get(person)?.get(dataset.noise) ?? [])),
    ),
  );
};
const people = [...(recalls.values().next().value ?? new Map()).keys()];
const leaveOnePersonOut: { person: string; picks: string; recall: number; defaultRecall: number }[] = [];
if (Object.keys(variants).length > 1 && people.length > 1) {
  process.stdout.write('\nleave one person out (tuned on the others, scored on the held-out person):\n');
  const first = Object.keys(variants)[0]!;
  for (const person of people) {
    const others = people.filter((other) => other !== person);
    const chosen = Object.keys(variants).reduce((best, name) =>
      score(name, others) > score(best, others) ? name : best,
    );
    leaveOnePersonOut.push({
      person,
      picks: chosen,
      recall: score(chosen, [person]),
      defaultRecall: score(first, [person]),
    });
    process.stdout.write(`  ${person}: picks ${chosen} → ${score(chosen, [person]).toFixed(3)}\n`);
  }
}
if (outPath) {
  const summary = {
    benchmark: 'personabench',
    task: 'settings-sweep',
    community: listing.name,
    k: 5,
    variants: Object.fromEntries(
      Object.entries(variants).map(([name, settings]) => [
        name,
        { settings, recallByNoise: overallByVariant[name] ?? {} },
      ]),
    ),
    leaveOnePersonOut,
    createdAt: new Date().toISOString(),
  };
  writeFileSync(outPath, `${JSON.stringify(summary, null, 2)}\n`);
}
