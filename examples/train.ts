// Train the user embedder's query side, then use the artifact: self-supervised on users' own histories (no
// labels), and supervised on LaMP-format data with class prototypes. Offline; synthetic demo data.
// Run: node --conditions=@userplug/source --import tsx examples/train.ts [--hashing]
// (--hashing uses core's lexical hashing encoder instead of the embedded default one: instant, less meaningful.)
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHashingEncoder, createPersonalizer, loadDefaultEncoder } from '@userplug/core';
import {
  classifyWithPrototypes,
  createSyntheticLamp,
  embedHistories,
  formatTrainingProgress,
  lampProfileToHistoryItem,
  maxPieceWordsFor,
  syntheticHistories,
  trainOnLamp,
  trainSelfSupervised,
  writeTrainedArtifact,
} from '@userplug/train';

const encoder = process.argv.includes('--hashing') ? createHashingEncoder() : await loadDefaultEncoder();
const directory = await mkdtemp(join(tmpdir(), 'userplug-train-example-'));

// 1. Self-supervised: predict a held-out later item of each user from the earlier ones (InfoNCE, τ 0.07).
const histories = await embedHistories({
  histories: syntheticHistories({ users: 8, items: 50, seed: 1 }),
  encoder,
});
const selfSupervised = await trainSelfSupervised({
  histories,
  maxPieceWords: maxPieceWordsFor(encoder),
  epochs: 3,
  onProgress: (progress) => process.stderr.write(`\r${formatTrainingProgress(progress)}\u001b[K`),
});
process.stderr.write('\n');
const path = join(directory, 'self-supervised.json');
await writeTrainedArtifact(path, selfSupervised.artifact);
const losses = selfSupervised.history.map((epoch) => epoch.validationLoss.toFixed(3)).join(' → ');
console.log(`Validation loss by epoch: ${losses}; kept epoch ${selfSupervised.bestEpoch}. Wrote ${path}.`);

const user = syntheticHistories({ users: 1, items: 30, seed: 42 })[0]!;
for (const trained of [undefined, path]) {
  const personalizer = createPersonalizer({ encoder, ...(trained ? { trained } : {}) });
  const { persona } = await personalizer.personalize({
    userId: 'ana',
    prompt: 'Any ideas for dinner tonight?',
    history: user.items,
  });
  const top = persona.attributions.slice(0, 3).map((item) => `${item.itemId} (${item.weight.toFixed(2)})`);
  console.log(`${trained ? 'trained  ' : 'untrained'} top items: ${top.join(', ')}`);
  await personalizer.dispose();
}

// 2. Supervised, LaMP-format (input → output per user): contrastive + prototypes for a classification task.
const train = createSyntheticLamp({ task: 'LaMP_2', users: 150, seed: 1 });
const lamp = await trainOnLamp({ data: train, encoder, epochs: 3 });
const [newUser] = createSyntheticLamp({ task: 'LaMP_2', users: 1, seed: 1, firstUser: 9_999 }).examples;
const personalizer = createPersonalizer({ encoder, trained: lamp.artifact });
const { persona } = await personalizer.personalize({
  userId: 'new-user',
  prompt: newUser!.input,
  history: newUser!.profile.map((entry, row) => lampProfileToHistoryItem('LaMP_2', entry, row)),
});
const classification = classifyWithPrototypes(persona, lamp.artifact);
const guesses = classification.probabilities
  .slice(0, 3)
  .map((entry) => `${entry.label} ${entry.probability.toFixed(2)}`);
console.log(
  `LaMP-2 style tag: ${classification.label} (gold ${newUser!.output}); top: ${guesses.join(', ')}`,
);
await personalizer.dispose();
await encoder.dispose();
