import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Encoder } from '@userplug/core';

/** Settings of {@link createDiskCachedEncoder}. */
export interface DiskCachedEncoderSettings {
  /** Folder of the cache files (one per encoder id), such as `evals/.cache/embeddings`. Created when missing. */
  directory: string;
}

/** What the cache did, for logs. */
export interface DiskCacheStatistics {
  /** Texts whose vectors came from the cache. */
  hits: number;
  /** Texts sent to the encoder. */
  misses: number;
  /** Vectors in the cache file. */
  stored: number;
}

const magic = Buffer.from('UPVEC1\n', 'ascii');
// Changes whenever the encoder's vectors would: the cache is dropped when this text embeds differently.
const probeText = 'userplug embedding cache probe: a quiet walk by the river on a Sunday morning';
const probeTolerance = 1e-4;

function safeFileName(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]+/g, '_');
}

/**
 * Wraps an encoder with an append-only cache on disk, so repeated evaluation runs embed each text once.
 * Keyed by encoder id, document or query side, and the text's SHA-256. The file starts with the vector of a
 * fixed probe text: when the encoder's vectors change under the same id (a fixed tokenizer, new weights), the
 * probe differs and the whole cache is dropped.
 */
export function createDiskCachedEncoder(
  encoder: Encoder,
  settings: DiskCachedEncoderSettings,
): Encoder & { statistics(): DiskCacheStatistics } {
  const dim = encoder.dim;
  const recordBytes = 1 + 32 + dim * 4;
  const path = join(settings.directory, `${safeFileName(encoder.id)}.vectors`);
  const statistics = { hits: 0, misses: 0, stored: 0 };
  let loading: Promise<Map<string, Float32Array>> | undefined;

  async function load(): Promise<Map<string, Float32Array>> {
    const entries = new Map<string, Float32Array>();
    const [probe] = await encoder.encode([probeText]);
    const probeBytes = Buffer.from(Float32Array.from(probe!).buffer);
    mkdirSync(settings.directory, { recursive: true });
    const header = Buffer.concat([magic, probeBytes]);
    let valid = false;
    if (existsSync(path)) {
      const file = readFileSync(path);
      if (file.length >= header.length && file.subarray(0, magic.length).equals(magic)) {
        const stored = new Float32Array(
          file.buffer.slice(file.byteOffset + magic.length, file.byteOffset + header.length),
        );
        valid =
          stored.length === dim &&
          stored.every((value, index) => Math.abs(value - probe![index]!) <= probeTolerance);
        if (valid) {
          // A torn last record (a killed run) is ignored.
          for (let offset = header.length; offset + recordBytes <= file.length; offset += recordBytes) {
            const key = file.subarray(offset, offset + 33).toString('hex');
            const vector = new Float32Array(
              file.buffer.slice(file.byteOffset + offset + 33, file.byteOffset + offset + recordBytes),
            );
            entries.set(key, vector);
          }
          const tail = (file.length - header.length) % recordBytes;
          if (tail !== 0) writeFileSync(path, file.subarray(0, file.length - tail));
        }
      }
    }
    if (!valid) writeFileSync(path, header);
    statistics.stored = entries.size;
    return entries;
  }

  async function cached(texts: readonly string[], side: 0 | 1): Promise<Float32Array[]> {
    loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
    const entries = await loading;
    const keys = texts.map((text) => {
      const hash = createHash('sha256').update(text).digest();
      return Buffer.concat([Buffer.from([side]), hash]).toString('hex');
    });
    const missing: number[] = [];
    const seen = new Set<string>();
    keys.forEach((key, index) => {
      if (!entries.has(key) && !seen.has(key)) {
        seen.add(key);
        missing.push(index);
      }
    });
    statistics.hits += texts.length - missing.length;
    statistics.misses += missing.length;
    if (missing.length > 0) {
      const inputs = missing.map((index) => texts[index]!);
      const vectors =
        side === 1 && encoder.encodeQueries
          ? await encoder.encodeQueries(inputs)
          : await encoder.encode(inputs);
      const records: Buffer[] = [];
      missing.forEach((index, position) => {
        const vector = Float32Array.from(vectors[position]!);
        entries.set(keys[index]!, vector);
        records.push(Buffer.from(keys[index]!, 'hex'), Buffer.from(vector.buffer));
      });
      appendFileSync(path, Buffer.concat(records));
      statistics.stored = entries.size;
    }
    return keys.map((key) => Float32Array.from(entries.get(key)!));
  }

  return {
    id: encoder.id,
    dim,
    ...(encoder.maxInputTokens === undefined ? {} : { maxInputTokens: encoder.maxInputTokens }),
    encode: (texts) => cached(texts, 0),
    ...(encoder.encodeQueries ? { encodeQueries: (texts: readonly string[]) => cached(texts, 1) } : {}),
    dispose: () => encoder.dispose(),
    statistics: () => ({ ...statistics }),
  };
}
