import { existsSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { type CliIo, UsageError } from '@userplug/cli-kit';
import { createHashingEncoder, type Encoder, loadDefaultEncoder, type TrainedArtifact } from '@userplug/core';
import { maxPieceWordsFor, writeTrainedArtifact } from '@userplug/core/internal';
import type { EmbeddedHistory, TrainingProgress, TrainingResult, TrainingSettings } from '@userplug/train';
import { openCliStore } from './cli-store.js';

export const trainUsage = `Usage: userplug train --data FILE_OR_DIR --objective self-supervised|lamp --out ARTIFACT [options]

Learns the user embedder's query side (a low-rank query transform, the attention temperature, recency
and kind priors, instruction embeddings; for classification data also scenario prototypes and soft
prompts) with TF.js autodiff, and writes a versioned artifact that \`createPersonalizer({ trained })\`
loads. self-supervised: no labels, predict a held-out later item of each user from the earlier ones
(InfoNCE, τ 0.07). lamp: LaMP-format input → output per user. Seeded and resumable: a stopped run
continues from its checkpoint when the same command is run again. Progress goes to stderr.

Options:
  --data PATH            self-supervised: a directory of <userId>.json/.jsonl history files, a .json/.jsonl
                         file of users' items (items with "userId", or { userId, items }), or a SQLite store
                         (.db) written by \`userplug ingest\`. lamp: a folder with {split}_questions.json and
                         {split}_outputs.json, or a .json/.jsonl file of { id, input, output, profile }.
  --objective NAME       self-supervised or lamp. Required.
  --out PATH             Where the artifact is written. Required.
  --epochs N             Passes over the examples. Default: 5.
  --seed S               Seed of initialization, held-out draws and batch order. Default: 1.
  --encoder NAME         use (embedded Universal Sentence Encoder lite) or hashing. Default: the encoder
                         of the store's items, else use. Personalizers must use the same encoder.
  --rank N               Rank of the query transform (0: none). Default: 4.
  --learning-rate X      Adam learning rate. Default: 0.003.
  --batch-size N         Examples per step (the contrastive negatives). Default: 32.
  --instruction TEXT     Learn the embedding of this instruction (InstructUE). Default: none.
  --split NAME           lamp: the split to read. Default: train, else dev.
  --llm DIR              lamp: also train a Persona-Plug projector for this local ONNX LLM (needs
                         @userplug/onnx): autodiff warm start, then zeroth-order steps on its likelihood.
  --zeroth-order-steps N SPSA steps through the LLM. Default: 20.
  --projector-out PATH   The projector file. Default: ARTIFACT with .projector.json.
  --checkpoint PATH      Checkpoint and embedding caches. Default: ARTIFACT.checkpoint (removed when done).
  --fresh                Ignore an existing checkpoint and start over.
  --json                 Print { artifact, objective, history, bestEpoch, examples, resumedFromStep } as JSON.
  -h, --help             Show this help.
`;

function parseNumber(name: string, value: string | undefined, whole: boolean): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isFinite(number) || (whole && !Number.isInteger(number)) || number < 0) {
    throw new UsageError(`--${name} must be ${whole ? 'a whole number' : 'a number'} ≥ 0, got "${value}".`);
  }
  return number;
}

function isStoreFile(path: string): boolean {
  return /\.(db|sqlite|sqlite3)$/i.test(path) && existsSync(path) && statSync(path).isFile();
}

/** Draws the progress bar: one redrawn line on a terminal, a line per epoch otherwise. */
function createProgressReporter(io: CliIo, format: (progress: TrainingProgress) => string) {
  const stream = io.stderr as CliIo['stderr'] & { isTTY?: boolean };
  let lastDraw = 0;
  let drawn = false;
  return {
    progress(progress: TrainingProgress) {
      const line = format(progress);
      const epochDone = progress.step === Math.round((progress.epoch * progress.steps) / progress.epochs);
      if (stream.isTTY) {
        const now = performance.now();
        if (now - lastDraw < 100 && !epochDone) return;
        lastDraw = now;
        stream.write(`\r${line}\u001b[K`);
        drawn = true;
      } else if (epochDone) {
        stream.write(`${line}\n`);
      }
    },
    line(text: string) {
      if (drawn) stream.write('\n');
      drawn = false;
      stream.write(`${text}\n`);
    },
  };
}

async function chooseTrainingEncoder(
  name: string | undefined,
  storedEncoderId: string | undefined,
): Promise<Encoder> {
  if (name !== undefined && name !== 'use' && name !== 'hashing') {
    throw new UsageError(`--encoder must be "use" or "hashing", got "${name}".`);
  }
  if (storedEncoderId !== undefined) {
    const storedHashing = storedEncoderId.startsWith('hashing-');
    if (name !== undefined && (name === 'hashing') !== storedHashing) {
      throw new UsageError(
        `The store's items were embedded with "${storedEncoderId}", not "${name}": leave --encoder out, or ingest again.`,
      );
    }
    if (storedHashing) return createHashingEncoder({ dim: Number(storedEncoderId.slice('hashing-'.length)) });
    return loadDefaultEncoder();
  }
  return name === 'hashing' ? createHashingEncoder() : loadDefaultEncoder();
}

/** \`userplug train\`. */
export async function trainCommand(args: string[], io: CliIo): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      data: { type: 'string' },
      objective: { type: 'string' },
      out: { type: 'string' },
      epochs: { type: 'string' },
      seed: { type: 'string' },
      encoder: { type: 'string' },
      rank: { type: 'string' },
      'learning-rate': { type: 'string' },
      'batch-size': { type: 'string' },
      instruction: { type: 'string' },
      split: { type: 'string' },
      llm: { type: 'string' },
      'zeroth-order-steps': { type: 'string' },
      'projector-out': { type: 'string' },
      checkpoint: { type: 'string' },
      fresh: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  if (values.data === undefined) throw new UsageError('--data FILE_OR_DIR is required.');
  if (values.out === undefined) throw new UsageError('--out ARTIFACT is required.');
  const objective = values.objective;
  if (objective !== 'self-supervised' && objective !== 'lamp') {
    throw new UsageError(`--objective must be "self-supervised" or "lamp", got "${objective ?? ''}".`);
  }
  if (!existsSync(values.data)) throw new UsageError(`--data ${values.data} does not exist.`);
  if (values.llm !== undefined && objective !== 'lamp') {
    throw new UsageError('--llm needs --objective lamp: the projector learns from gold outputs.');
  }
  const epochs = parseNumber('epochs', values.epochs, true);
  const seed = parseNumber('seed', values.seed, true);
  const rank = parseNumber('rank', values.rank, true);
  const learningRate = parseNumber('learning-rate', values['learning-rate'], false);
  const batchSize = parseNumber('batch-size', values['batch-size'], true);
  const zerothOrderSteps = parseNumber('zeroth-order-steps', values['zeroth-order-steps'], true);
  const settings: TrainingSettings = {
    ...(epochs === undefined ? {} : { epochs }),
    ...(seed === undefined ? {} : { seed }),
    ...(rank === undefined ? {} : { rank }),
    ...(learningRate === undefined ? {} : { learningRate }),
    ...(batchSize === undefined ? {} : { batchSize }),
    ...(values.instruction === undefined ? {} : { instruction: values.instruction }),
  };
  const checkpointDirectory = values.checkpoint ?? `${values.out}.checkpoint`;
  if (values.fresh) await rm(checkpointDirectory, { recursive: true, force: true });
  // Imported on demand: TF.js takes about half a second to load, and the other commands never need it.
  const {
    embedHistories,
    formatTrainingProgress,
    readLampData,
    readStoreHistories,
    readTrainingHistories,
    trainLampProjector,
    trainOnLamp,
    trainSelfSupervised,
  } = await import('@userplug/train');
  const reporter = createProgressReporter(io, formatTrainingProgress);
  const abort = new AbortController();
  let training = false;
  // Training stops after its step and saves a checkpoint; elsewhere (embedding is cached per user) and on a second signal, exit at once.
  const onSignal = () => {
    if (!training || abort.signal.aborted) process.exit(130);
    abort.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const control = {
    checkpointFile: join(checkpointDirectory, 'state.json'),
    checkpointEverySeconds: 10,
    signal: abort.signal,
    onProgress: (progress: TrainingProgress) => {
      training = true;
      reporter.progress(progress);
    },
  };
  let encoder: Encoder | undefined;
  let ownsEncoder = false;
  try {
    let result: TrainingResult;
    let projectorNote: Record<string, unknown> | undefined;
    if (objective === 'self-supervised') {
      let histories: EmbeddedHistory[];
      if (isStoreFile(values.data)) {
        const store = await openCliStore(values.data, { mustExist: true });
        try {
          histories = await readStoreHistories(store);
        } finally {
          await store.close();
        }
        const storedEncoder = histories.find((history) => history.items.length > 0)?.items[0]?.encoderId;
        encoder = await chooseTrainingEncoder(values.encoder, storedEncoder);
        ownsEncoder = encoder.id.startsWith('hashing-');
        reporter.line(`Read ${histories.length} users from the store ${values.data}.`);
      } else {
        const raw = await readTrainingHistories(values.data);
        encoder = await chooseTrainingEncoder(values.encoder, undefined);
        ownsEncoder = encoder.id.startsWith('hashing-');
        histories = await embedHistories({
          histories: raw,
          encoder,
          cacheFile: join(checkpointDirectory, 'histories.jsonl'),
          onProgress: ({ done, total }) => {
            if (done === total || done % 10 === 0) reporter.line(`Embedded ${done}/${total} users.`);
          },
        });
      }
      result = await trainSelfSupervised({
        ...settings,
        ...control,
        histories,
        maxPieceWords: maxPieceWordsFor(encoder),
      });
    } else {
      const data = await readLampData(values.data, values.split === undefined ? {} : { split: values.split });
      encoder = await chooseTrainingEncoder(values.encoder, undefined);
      ownsEncoder = encoder.id.startsWith('hashing-');
      reporter.line(
        `Read ${data.examples.length} LaMP examples${data.task ? ` (${data.task})` : ''}; embedding…`,
      );
      result = await trainOnLamp({
        ...settings,
        ...control,
        data,
        encoder,
        cacheDirectory: checkpointDirectory,
      });
      if (values.llm !== undefined) {
        const projectorOut = values['projector-out'] ?? values.out.replace(/(\.json)?$/, '.projector.json');
        reporter.line(`Training a projector for ${values.llm}…`);
        const projector = await trainLampProjector({
          out: projectorOut,
          data,
          encoder,
          artifact: result.artifact,
          modelDirectory: values.llm,
          ...(seed === undefined ? {} : { seed }),
          ...(zerothOrderSteps === undefined ? {} : { zerothOrderSteps }),
          ...(values.instruction === undefined ? {} : { instruction: values.instruction }),
          onStep: ({ step, steps, loss }) => {
            if (step === steps || step % 5 === 0)
              reporter.line(`zeroth-order step ${step}/${steps}  loss ${loss.toFixed(4)}`);
          },
        });
        result.artifact.projectorFile = relative(dirname(values.out), projectorOut) || basename(projectorOut);
        projectorNote = { file: projectorOut, loss: projector.loss };
      }
    }
    const artifact: TrainedArtifact = result.artifact;
    await writeTrainedArtifact(values.out, artifact);
    await rm(checkpointDirectory, { recursive: true, force: true });
    const first = result.history[0]!;
    const best = result.history[result.bestEpoch]!;
    if (values.json) {
      io.stdout.write(
        `${JSON.stringify(
          {
            artifact: values.out,
            objective,
            encoder: artifact.encoder,
            history: result.history,
            bestEpoch: result.bestEpoch,
            examples: result.examples,
            ...(result.resumedFromStep === undefined ? {} : { resumedFromStep: result.resumedFromStep }),
            ...(projectorNote ? { projector: projectorNote } : {}),
          },
          null,
          2,
        )}\n`,
      );
      return;
    }
    reporter.line(
      `${result.resumedFromStep === undefined ? '' : `Resumed from step ${result.resumedFromStep}. `}Validation loss ${first.validationLoss.toFixed(4)} untrained → ${best.validationLoss.toFixed(4)} (epoch ${result.bestEpoch}).`,
    );
    io.stdout.write(
      `Wrote ${values.out} (${objective}, encoder ${artifact.encoder.id}, ${result.examples.train} training examples, best epoch ${result.bestEpoch}${result.bestEpoch === 0 ? ': training did not beat the untrained start on validation, the artifact holds it unchanged' : ''}).\n` +
        (projectorNote ? `Wrote the projector ${String(projectorNote.file)}.\n` : '') +
        `Use it: createPersonalizer({ trained: '${values.out}' }).\n`,
    );
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    // The default encoder is shared by the process; only a hashing encoder made here is disposed.
    if (encoder && ownsEncoder) await encoder.dispose();
  }
}
