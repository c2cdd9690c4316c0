import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { FileFormatError } from '@userplug/core';
import { z } from 'zod';
import { type EmbeddingTableSource, openEmbeddingTable } from './embedding-table.js';
import {
  elementTypeOf,
  encodeModelProto,
  readModelProto,
  type TensorElementType,
  tensorBytes,
  tensorDimensions,
  walkGraphs,
} from './onnx-model-file.js';
import { type OnnxTypes, onnx } from './onnx-proto.js';

/** Bump when the rewrite changes, so cached rewrites of older versions are not reused. */
const rewriteVersion = 1;

/** A decoder graph ready to take `inputs_embeds`, and where its token-embedding table is. */
export interface PreparedDecoderModel {
  /** The graph onnxruntime loads: the original, or the rewritten copy in the cache. */
  modelPath: string;
  /** True when the original graph took `input_ids` and was rewritten to take `inputs_embeds`. */
  rewritten: boolean;
  /** True when the rewrite (or table extraction) was read from the cache instead of made now. */
  fromCache: boolean;
  /** True when the graph still reads `input_ids` (for shapes) next to `inputs_embeds`. */
  needsInputIds: boolean;
  /** The token-embedding table. */
  embeddings: EmbeddingTableSource;
  /** Median norm of the table's rows. */
  typicalNorm: number;
  /**
   * Folder of the original's external data files when the rewritten graph refers to them: load the
   * graph from memory with this folder as `session.model_external_initializers_file_folder_path`
   * (onnxruntime refuses external data outside a model file's own folder, links included).
   */
  externalDataFolder: string | undefined;
  /** The cache folder of this model. */
  cacheFolder: string;
}

const metaSchema = z.object({
  version: z.literal(rewriteVersion),
  source: z.string(),
  rewritten: z.boolean(),
  needsInputIds: z.boolean(),
  modelFile: z.string(),
  externalDataFolder: z.string().optional(),
  embeddings: z.object({
    file: z.string(),
    offset: z.number().int().nonnegative(),
    elementType: z.enum(['float32', 'float16', 'bfloat16']),
    vocabSize: z.number().int().positive(),
    hiddenSize: z.number().int().positive(),
  }),
  typicalNorm: z.number().positive(),
});

type Meta = z.infer<typeof metaSchema>;

interface FoundTable {
  table: OnnxTypes.ITensorProto;
  gathers: { graph: OnnxTypes.IGraphProto; node: OnnxTypes.INodeProto }[];
}

/**
 * Finds the token-embedding lookup: Gather nodes (in any subgraph) whose indices are `idsName`
 * (directly or through Cast/Identity) and whose data is a rank-2 initializer.
 */
function findEmbeddingGathers(model: OnnxTypes.IModelProto, idsName: string, path: string): FoundTable {
  const graphs = [...walkGraphs(model.graph!)];
  const initializers = new Map<string, OnnxTypes.ITensorProto>();
  for (const graph of graphs)
    for (const tensor of graph.initializer ?? []) initializers.set(tensor.name!, tensor);
  const aliases = new Set([idsName]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const graph of graphs) {
      for (const node of graph.node ?? []) {
        if ((node.opType === 'Cast' || node.opType === 'Identity') && aliases.has(node.input?.[0] ?? '')) {
          for (const output of node.output ?? []) {
            if (!aliases.has(output)) {
              aliases.add(output);
              grew = true;
            }
          }
        }
      }
    }
  }
  const gathers: FoundTable['gathers'] = [];
  let table: OnnxTypes.ITensorProto | undefined;
  const quantized: string[] = [];
  for (const graph of graphs) {
    for (const node of graph.node ?? []) {
      const [data = '', indices = ''] = node.input ?? [];
      if (!aliases.has(indices)) continue;
      if (node.opType !== 'Gather') {
        if (/Gather/.test(node.opType ?? '')) quantized.push(`${node.opType} "${node.name}"`);
        continue;
      }
      const axis = node.attribute?.find((attribute) => attribute.name === 'axis');
      const candidate = initializers.get(data);
      if (!candidate || tensorDimensions(candidate).length !== 2 || Number(axis?.i ?? 0) !== 0) {
        quantized.push(`Gather "${node.name}" over "${data}"`);
        continue;
      }
      if (table && table.name !== candidate.name) {
        throw new FileFormatError(
          path,
          `${path} looks up input_ids in two tables ("${table.name}" and "${candidate.name}"); userplug cannot tell which is the token embedding.`,
        );
      }
      table = candidate;
      gathers.push({ graph, node });
    }
  }
  if (!table) {
    throw new FileFormatError(
      path,
      `Found no token-embedding lookup (a Gather over a float table indexed by input_ids) in ${path}` +
        (quantized.length > 0
          ? `; it looks up input_ids with ${quantized.join(', ')} (a quantized table)`
          : '') +
        '. Use the model file with a float32 or float16 embedding table (for example onnx/model.onnx or onnx/model_fp16.onnx) through `modelFile`.',
    );
  }
  const type = elementTypeOf(table.dataType);
  if (!type) {
    throw new FileFormatError(
      path,
      `The embedding table "${table.name}" in ${path} has ONNX data type ${table.dataType}; userplug reads float32, float16 and bfloat16 tables. Use a float model file through \`modelFile\`.`,
    );
  }
  return { table, gathers };
}

/** Removes nodes whose outputs nothing reads, then initializers and inputs nothing reads. */
function pruneUnused(model: OnnxTypes.IModelProto): void {
  const graphs = [...walkGraphs(model.graph!)];
  let removed = true;
  while (removed) {
    removed = false;
    const used = new Set<string>();
    for (const graph of graphs) {
      for (const node of graph.node ?? []) for (const input of node.input ?? []) used.add(input);
      for (const output of graph.output ?? []) used.add(output.name ?? '');
    }
    for (const graph of graphs) {
      const kept = (graph.node ?? []).filter((node) =>
        (node.output ?? []).some((output) => used.has(output)),
      );
      if (kept.length !== (graph.node ?? []).length) {
        graph.node = kept;
        removed = true;
      }
    }
  }
  const used = new Set<string>();
  for (const graph of graphs) {
    for (const node of graph.node ?? []) for (const input of node.input ?? []) used.add(input);
    for (const output of graph.output ?? []) used.add(output.name ?? '');
  }
  const main = model.graph!;
  main.initializer = (main.initializer ?? []).filter((tensor) => used.has(tensor.name ?? ''));
  main.input = (main.input ?? []).filter((input) => used.has(input.name ?? ''));
}

async function extractTable(
  table: OnnxTypes.ITensorProto,
  path: string,
  folder: string,
): Promise<Meta['embeddings']> {
  const [vocabSize = 0, hiddenSize = 0] = tensorDimensions(table);
  const elementType = elementTypeOf(table.dataType) as TensorElementType;
  const bytes = tensorBytes(table, path);
  if (bytes.kind === 'external') {
    return { file: bytes.file, offset: bytes.offset, elementType, vocabSize, hiddenSize };
  }
  await writeFile(join(folder, 'embeddings.bin'), bytes.bytes);
  return { file: 'embeddings.bin', offset: 0, elementType, vocabSize, hiddenSize };
}

/** True when some initializer keeps its bytes in an external data file. */
function usesExternalData(model: OnnxTypes.IModelProto): boolean {
  for (const graph of walkGraphs(model.graph!)) {
    for (const tensor of graph.initializer ?? []) {
      if (tensor.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) return true;
    }
  }
  return false;
}

/** Candidate embedding-table graphs for a decoder that already takes inputs_embeds. */
function embedTokensCandidates(modelPath: string): string[] {
  const folder = dirname(modelPath);
  const suffix =
    /(_fp16|_q4f16|_q4|_int8|_uint8|_quantized|_bnb4)\.onnx$/.exec(basename(modelPath))?.[1] ?? '';
  return [...new Set([`embed_tokens${suffix}.onnx`, 'embed_tokens.onnx', 'embed_tokens_fp16.onnx'])].map(
    (name) => join(folder, name),
  );
}

/**
 * Makes a decoder graph take `inputs_embeds`. A graph that takes `input_ids` is rewritten once: each
 * Gather over the token-embedding table becomes an Identity of the new `inputs_embeds` input (the
 * table stays in the graph when the output head still uses it), `input_ids` stays an input only if
 * other nodes read it, and the result goes to `cacheDirectory`, keyed by the model file's path,
 * size and modification time. The table's location is recorded for prompt-token lookups.
 */
export async function prepareDecoderModel(options: {
  modelPath: string;
  cacheDirectory: string;
}): Promise<PreparedDecoderModel> {
  const source = await realpath(options.modelPath);
  const info = await stat(source);
  const key = createHash('sha256')
    .update(`${rewriteVersion}\u0000${source}\u0000${info.size}\u0000${info.mtimeMs}`)
    .digest('hex')
    .slice(0, 24);
  const folder = join(options.cacheDirectory, key);
  const cached = await readMeta(folder);
  if (cached) return describe(cached, folder, true);

  const model = await readModelProto(source);
  const inputNames = new Set((model.graph?.input ?? []).map((input) => input.name ?? ''));
  const staging = `${folder}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await mkdir(staging, { recursive: true });
  try {
    let meta: Meta;
    if (inputNames.has('inputs_embeds') && !inputNames.has('input_ids')) {
      const embedPath = embedTokensCandidates(source).find((candidate) => existsSync(candidate));
      if (!embedPath) {
        throw new FileFormatError(
          source,
          `${source} takes inputs_embeds, and no embedding table was found next to it (looked for ${embedTokensCandidates(source).join(', ')}). ` +
            'Put the exported embed_tokens.onnx next to the decoder, or use a decoder that takes input_ids.',
        );
      }
      const embedModel = await readModelProto(embedPath);
      const found = findEmbeddingGathers(embedModel, 'input_ids', embedPath);
      const embeddings = await extractTable(found.table, embedPath, staging);
      meta = {
        version: rewriteVersion,
        source,
        rewritten: false,
        needsInputIds: false,
        modelFile: source,
        embeddings,
        typicalNorm: 1,
      };
    } else if (inputNames.has('input_ids')) {
      if (inputNames.has('inputs_embeds')) {
        throw new FileFormatError(
          source,
          `${source} takes both input_ids and inputs_embeds; userplug does not know how it combines them. Export the decoder with input_ids only.`,
        );
      }
      const found = findEmbeddingGathers(model, 'input_ids', source);
      const embeddings = await extractTable(found.table, source, staging);
      for (const { node } of found.gathers) {
        node.opType = 'Identity';
        node.input = ['inputs_embeds'];
        node.attribute = [];
        node.domain = '';
      }
      const idsInput = model.graph!.input!.find((input) => input.name === 'input_ids')!;
      const idsDimensions = idsInput.type?.tensorType?.shape?.dim ?? [];
      model.graph!.input!.push({
        name: 'inputs_embeds',
        type: {
          tensorType: {
            elemType: found.table.dataType ?? onnx.TensorProto.DataType.FLOAT,
            shape: {
              dim: [
                idsDimensions[0] ?? { dimParam: 'batch_size' },
                idsDimensions[1] ?? { dimParam: 'sequence_length' },
                { dimValue: embeddings.hiddenSize },
              ],
            },
          },
        },
      });
      pruneUnused(model);
      const needsInputIds = model.graph!.input!.some((input) => input.name === 'input_ids');
      await writeFile(join(staging, 'model.onnx'), encodeModelProto(model));
      meta = {
        version: rewriteVersion,
        source,
        rewritten: true,
        needsInputIds,
        modelFile: 'model.onnx',
        ...(usesExternalData(model) ? { externalDataFolder: dirname(source) } : {}),
        embeddings,
        typicalNorm: 1,
      };
    } else {
      throw new FileFormatError(
        source,
        `${source} has neither an input_ids nor an inputs_embeds input (inputs: ${[...inputNames].join(', ')}). Point modelFile at the decoder graph.`,
      );
    }
    const table = openEmbeddingTable(resolveTable(meta.embeddings, staging));
    meta.typicalNorm = table.typicalNorm;
    table.close();
    await writeFile(join(staging, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
    try {
      await rename(staging, folder);
    } catch (error) {
      // Another process wrote the same rewrite first: use theirs.
      const theirs = await readMeta(folder);
      if (!theirs) throw error;
      await rm(staging, { recursive: true, force: true });
      return describe(theirs, folder, true);
    }
    return describe(meta, folder, false);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

function resolveTable(embeddings: Meta['embeddings'], folder: string): EmbeddingTableSource {
  return embeddings.file === 'embeddings.bin'
    ? { ...embeddings, file: join(folder, 'embeddings.bin') }
    : embeddings;
}

async function readMeta(folder: string): Promise<Meta | undefined> {
  try {
    const parsed = metaSchema.safeParse(JSON.parse(await readFile(join(folder, 'meta.json'), 'utf8')));
    if (!parsed.success) return undefined;
    const table = resolveTable(parsed.data.embeddings, folder);
    const modelFile = parsed.data.rewritten ? join(folder, parsed.data.modelFile) : parsed.data.modelFile;
    return existsSync(table.file) && existsSync(modelFile) ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function describe(meta: Meta, folder: string, fromCache: boolean): PreparedDecoderModel {
  return {
    modelPath: meta.rewritten ? join(folder, meta.modelFile) : meta.modelFile,
    rewritten: meta.rewritten,
    fromCache,
    needsInputIds: meta.needsInputIds,
    externalDataFolder: meta.externalDataFolder,
    embeddings: resolveTable(meta.embeddings, folder),
    typicalNorm: meta.typicalNorm,
    cacheFolder: folder,
  };
}
