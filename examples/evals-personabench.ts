// PersonaBench retrieval with the official scorer, from the API: BM25 and userplug on community_0 at noise 0.5,
// then end-to-end QA with any generate(prompt) function (here a stand-in that always answers "I don't know").
// Run: node --conditions=@userplug/source --import tsx examples/evals-personabench.ts [../shared/data/personabench]
// The data (CC BY-NC-SA) is read from ../shared at run time; it is never copied into the repository.
import {
  createMethodRetriever,
  loadEvalEncoder,
  loadPersonaBench,
  runPersonaBenchQa,
  runPersonaBenchRetrieval,
} from '@userplug/evals';

const root = process.argv[2] ?? '../shared/data/personabench';
const dataset = await loadPersonaBench({ root, community: 0, noise: 0.5 });
console.log(
  `${dataset.community} at noise ${dataset.noise}: ${dataset.people.map((person) => `${person.name} (${person.sessions.length} sessions)`).join(', ')}`,
);

// The embedded default encoder, with vectors cached in evals/.cache/embeddings between runs.
const encoder = await loadEvalEncoder();
for (const method of ['bm25', 'userplug'] as const) {
  const retriever = createMethodRetriever(method, { encoder });
  const result = await runPersonaBenchRetrieval({ dataset, retriever, k: 5 });
  await retriever.dispose();
  console.log(
    `${method}: Recall@5 ${result.recall.toFixed(3)}, NDCG@5 ${result.ndcg.toFixed(3)} over ${result.n} questions`,
  );
  for (const [type, group] of Object.entries(result.byType)) {
    console.log(`  ${type.padEnd(18)} ${group.recall.toFixed(3)} / ${group.ndcg.toFixed(3)} (n ${group.n})`);
  }
}

// End-to-end QA: plug in any LLM call, e.g. (prompt) => openai.generate({ userId, prompt, budget: 0 }).then((r) => r.text).
const qa = await runPersonaBenchQa({
  dataset,
  context: createMethodRetriever('bm25', {}),
  model: 'constant baseline (not an LLM)',
  generate: async () => "I don't know",
});
console.log(
  `QA with a constant answer: F1 ${qa.f1.toFixed(3)} (n ${qa.n}), ${qa.usage.inputTokens} prompt tokens counted`,
);
await encoder.dispose();
