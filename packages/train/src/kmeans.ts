import { createSeededRandom } from '@userplug/core/internal';

/** What {@link sphericalKMeans} returns. */
export interface KMeansResult {
  /** Unit centroids, `[k, dim]` row-major. */
  centroids: Float32Array;
  /** Cluster of each vector. */
  assignments: Int32Array;
}

function dotAt(
  vectors: readonly Float32Array[],
  row: number,
  centroids: Float32Array,
  cluster: number,
  dim: number,
): number {
  const vector = vectors[row]!;
  let sum = 0;
  for (let column = 0; column < dim; column++) sum += vector[column]! * centroids[cluster * dim + column]!;
  return sum;
}

/**
 * Spherical k-means (cosine) with seeded k-means++ starts: the scenario clusters of Query-as-Anchor over
 * user embeddings. Vectors should be unit length; centroids come back unit length.
 */
export function sphericalKMeans(
  vectors: readonly Float32Array[],
  k: number,
  options: { seed: number; iterations?: number },
): KMeansResult {
  const count = vectors.length;
  const dim = vectors[0]?.length ?? 0;
  const clusters = Math.min(k, count);
  const random = createSeededRandom(options.seed);
  const centroids = new Float32Array(k * dim);
  const chosen: number[] = [random.below(count)];
  const distance = new Float64Array(count).fill(Number.POSITIVE_INFINITY);
  while (chosen.length < clusters) {
    const last = chosen.at(-1)!;
    let total = 0;
    for (let row = 0; row < count; row++) {
      let sum = 0;
      for (let column = 0; column < dim; column++) sum += vectors[row]![column]! * vectors[last]![column]!;
      distance[row] = Math.min(distance[row]!, Math.max(0, 1 - sum));
      total += distance[row]! ** 2;
    }
    let threshold = random.next() * total;
    let pick = count - 1;
    for (let row = 0; row < count; row++) {
      threshold -= distance[row]! ** 2;
      if (threshold <= 0) {
        pick = row;
        break;
      }
    }
    chosen.push(pick);
  }
  chosen.forEach((row, cluster) => {
    centroids.set(vectors[row]!, cluster * dim);
  });
  const assignments = new Int32Array(count);
  for (let iteration = 0; iteration < (options.iterations ?? 25); iteration++) {
    let changed = iteration === 0;
    for (let row = 0; row < count; row++) {
      let best = 0;
      let bestScore = Number.NEGATIVE_INFINITY;
      for (let cluster = 0; cluster < clusters; cluster++) {
        const score = dotAt(vectors, row, centroids, cluster, dim);
        if (score > bestScore) {
          bestScore = score;
          best = cluster;
        }
      }
      if (assignments[row] !== best) changed = true;
      assignments[row] = best;
    }
    const sums = new Float64Array(k * dim);
    for (let row = 0; row < count; row++) {
      const cluster = assignments[row]!;
      for (let column = 0; column < dim; column++) sums[cluster * dim + column]! += vectors[row]![column]!;
    }
    for (let cluster = 0; cluster < clusters; cluster++) {
      let norm = 0;
      for (let column = 0; column < dim; column++) norm += sums[cluster * dim + column]! ** 2;
      // An emptied cluster keeps its centroid.
      if (norm === 0) continue;
      norm = Math.sqrt(norm);
      for (let column = 0; column < dim; column++)
        centroids[cluster * dim + column] = sums[cluster * dim + column]! / norm;
    }
    if (!changed) break;
  }
  return { centroids, assignments };
}

/** Unit mean of the vectors of each class (prototypical networks); a class without vectors gets a zero row. */
export function classMeans(
  vectors: readonly Float32Array[],
  labels: readonly (number | undefined)[],
  classes: number,
): Float32Array {
  const dim = vectors[0]?.length ?? 0;
  const means = new Float32Array(classes * dim);
  vectors.forEach((vector, row) => {
    const label = labels[row];
    if (label === undefined) return;
    for (let column = 0; column < dim; column++) means[label * dim + column]! += vector[column]!;
  });
  for (let label = 0; label < classes; label++) {
    let norm = 0;
    for (let column = 0; column < dim; column++) norm += means[label * dim + column]! ** 2;
    norm = Math.sqrt(norm) || 1;
    for (let column = 0; column < dim; column++) means[label * dim + column]! /= norm;
  }
  return means;
}
