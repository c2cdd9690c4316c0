// Compares settings of the `userplug` method on PersonaBench at every noise level, per person, with a
// leave-one-person-out check: for each person, the variant that scores best on the others, scored on them.
// Usage (from the repository root):
//   node --conditions=@userplug/source --import tsx evals/scripts/personabench-sweep.ts \
//     '{"default":{},"no-whitening":{"retrieval":{"whitening":false}}}' [DATA_DIR] [COMMUNITY] [OUT_JSON] \
//     [--view turns] [--persona-budget 300 …] [--noise 0.5]
// Embeddings come from the evaluation's disk cache (evals/.cache/embeddings). With OUT_JSON, every variant's
// Recall@5 by noise level and person is also written there (evals/scripts/update-readme-tables.ts reads it).
// With --persona-budget, each variant's persona evidence recall at those budgets is printed (and written) too.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { PersonalizerSettings } from '@userplug/core';
import { createUserplugRetriever } from '../../packages/evals/src/create-userplug-retriever.js';
import { loadEvalEncoder } from '../../packages/evals/src/load-eval-encoder.js';
import { listPersonaBench, loadPersonaBench } from '../../packages/evals/src/load-personabench.js';
import { runPersonaBenchRetrieval } from '../../packages/evals/src/run-personabench-retrieval.js';

type Variant = Omit<PersonalizerSettings, 'encoder' | 'maxAttributions'>;

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    view: { type: 'string', default: 'sessions' },
    'persona-budget': { type: 'string', multiple: true, default: [] },
    noise: { type: 'string', multiple: true, default: [] },
  },
});
const variants = JSON.parse(positionals[0] ?? '{"default":{}}') as Record<string, Variant>;
const root = positionals[1] ?? '../shared/data/personabench';
const community = Number(positionals[2] ?? 0);
const outPath = positionals[3];
const view = flags.view === 'turns' ? 'turns' : 'sessions';
const personaBudgets = flags['persona-budget'].map(Number);
const listing = listPersonaBench(root).communities.find((entry) => entry.number === community);
if (!listing) throw new Error(`No community_${community} under ${root}.`);
const noiseLevels = flags.noise.length > 0 ? flags.noise : listing.noiseLevels;
const datasets = await Promise.all(noiseLevels.map((noise) => loadPersonaBench({ root, community, noise })));
const encoder = await loadEvalEncoder();
const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

// Recall@5 of every scored question, by variant, person and noise level.
const recalls = new Map<string, Map<string, Map<string, number[]>>>();
const overallByVariant: Record<string, Record<string, number>> = {};
const personaByVariant: Record<
  string,
  Record<string, { budget: number; recall: number; tokens: number }[]>
> = {};
for (const [name, settings] of Object.entries(variants)) {
  const byPerson = new Map<string, Map<string, number[]>>();
  const overall: string[] = [];
  for (const dataset of datasets) {
    const retriever = createUserplugRetriever({ ...settings, encoder });
    const result = await runPersonaBenchRetrieval({ dataset, retriever, k: 5, view, personaBudgets });
    await retriever.dispose();
    const persona = (result.persona ?? []).map((entry) => `@${entry.budget} ${entry.recall.toFixed(3)}`);
    const turns = result.answerTurns;
    if (turns)
      persona.push(
        `| turns R@5 ${turns.recallAt5.toFixed(3)} R@10 ${turns.recallAt10.toFixed(3)} ${turns.persona.map((entry) => `@${entry.budget} ${entry.recall.toFixed(3)}`).join(' ')}`,
      );
    overall.push(
      `${dataset.noise}: ${result.recall.toFixed(3)}${persona.length > 0 ? ` (R@10 ${result.recallAt10?.toFixed(3)}, persona ${persona.join(' ')})` : ''}`,
    );
    if (result.persona)
      personaByVariant[name] = {
        ...personaByVariant[name],
        [dataset.noise]: result.persona.map(({ budget, recall, tokens }) => ({ budget, recall, tokens })),
      };
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
    view,
    k: 5,
    variants: Object.fromEntries(
      Object.entries(variants).map(([name, settings]) => [
        name,
        {
          settings,
          recallByNoise: overallByVariant[name] ?? {},
          ...(personaByVariant[name] ? { personaByNoise: personaByVariant[name] } : {}),
        },
      ]),
    ),
    leaveOnePersonOut,
    createdAt: new Date().toISOString(),
  };
  writeFileSync(outPath, `${JSON.stringify(summary, null, 2)}\n`);
}
