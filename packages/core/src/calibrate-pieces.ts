import { createVectorKernel } from './vector-kernel.js';

/** How a user's piece vectors are calibrated when the index is built. Every field has a default. */
export interface CalibrationSettings {
  /**
   * Per-user soft whitening: along a direction in which the user's pieces vary with variance λ, vectors are
   * scaled by `1 / √(λ + whitening · λ̄)` (λ̄ the mean variance), after the user's mean vector is removed.
   * Directions every piece shares (the encoder's anisotropy, the user's usual topics) then stop dominating
   * cosine similarity. Lower is stronger; `false` keeps plain cosine similarity. Default 5.
   */
  whitening?: number | false;
  /** Fewest pieces a user needs before the index is calibrated; smaller histories keep plain cosine. Default 64. */
  minimumCalibrationPieces?: number;
  /**
   * Most pieces each piece is compared with to estimate its hubness. Fewer are used for histories so large that
   * comparisons would exceed about 4 million piece pairs. Default 1,024.
   */
  hubnessSampleSize?: number;
}

/** What calibration learned about one user's pieces; everything the query-time scoring needs. */
export interface PieceCalibration {
  /** Vector length. */
  dimension: number;
  /** The user's mean piece vector (removed before whitening). */
  mean: Float32Array;
  /** Leading eigenvectors of the pieces' covariance, row-major (`rank × dimension`). */
  basis: Float32Array;
  /** Rows of `basis`. */
  rank: number;
  /** Squared whitening scale along each basis direction minus `tailScale`² (for `W²`). */
  basisSquaredScaleOffsets: Float32Array;
  /** Whitening scale along every direction outside the basis. */
  tailScale: number;
  /** `1 / ‖W(p − mean)‖` of every piece: turns a dot product with a calibrated query into a cosine. */
  pieceScales: Float32Array;
  /** Mean whitened cosine of every piece to its nearest other pieces (CSLS-style hubness). */
  hubness: Float32Array;
}

/** A query mapped into a calibrated index: `cosᵢ = (pᵢ · vector − offset) · pieceScales[i]`. */
export interface CalibratedQuery {
  vector: Float32Array;
  offset: number;
}

const defaultWhitening = 5;
const defaultMinimumPieces = 64;
const defaultHubnessSampleSize = 1_024;
// Covariance from at most this many pieces: a 512-d covariance is well estimated by a few thousand samples.
const covarianceSampleSize = 2_048;
// Directions whitened individually; beyond them the spectrum is flat enough to share one scale.
const whiteningRank = 48;
const subspaceIterations = 6;
// Oversampled block for subspace iteration, so the leading `whiteningRank` directions converge.
const subspaceOversampling = 16;
const hubnessPairBudget = 4_194_304;
const hubnessNeighbours = 10;

function evenlySpacedRows(rows: number, count: number): Int32Array {
  const chosen = new Int32Array(Math.min(rows, count));
  if (chosen.length === rows) {
    for (let index = 0; index < rows; index++) chosen[index] = index;
    return chosen;
  }
  const step = (rows - 1) / Math.max(1, chosen.length - 1);
  for (let index = 0; index < chosen.length; index++) chosen[index] = Math.round(index * step);
  return chosen;
}

/** Orthonormalizes the rows of a row-major block in place (modified Gram–Schmidt). */
function orthonormalizeRows(block: Float64Array, rows: number, dimension: number): void {
  let restarts = 0;
  for (let row = 0; row < rows; row++) {
    const offset = row * dimension;
    for (let previous = 0; previous < row; previous++) {
      const other = previous * dimension;
      let projection = 0;
      for (let column = 0; column < dimension; column++)
        projection += block[offset + column]! * block[other + column]!;
      for (let column = 0; column < dimension; column++)
        block[offset + column] = block[offset + column]! - projection * block[other + column]!;
    }
    let norm = 0;
    for (let column = 0; column < dimension; column++) norm += block[offset + column]! ** 2;
    norm = Math.sqrt(norm);
    if (norm < 1e-12 && restarts < 2 * dimension) {
      // A collapsed direction (rank-deficient data): restart it on another coordinate axis and orthogonalize again.
      for (let column = 0; column < dimension; column++) block[offset + column] = 0;
      block[offset + ((row + restarts) % dimension)] = 1;
      restarts++;
      row--;
      continue;
    }
    if (norm < 1e-12) continue;
    for (let column = 0; column < dimension; column++)
      block[offset + column] = block[offset + column]! / norm;
  }
}

/** Eigen-decomposition of a small symmetric matrix (cyclic Jacobi). Returns eigenvalues and row eigenvectors. */
export function symmetricEigen(
  matrix: Float64Array,
  size: number,
): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(matrix);
  const vectors = new Float64Array(size * size);
  for (let index = 0; index < size; index++) vectors[index * size + index] = 1;
  for (let sweep = 0; sweep < 64; sweep++) {
    let offDiagonal = 0;
    for (let row = 0; row < size; row++)
      for (let column = row + 1; column < size; column++) offDiagonal += a[row * size + column]! ** 2;
    if (offDiagonal < 1e-22) break;
    for (let p = 0; p < size; p++) {
      for (let q = p + 1; q < size; q++) {
        const apq = a[p * size + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * size + q]! - a[p * size + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < size; k++) {
          const akp = a[k * size + p]!;
          const akq = a[k * size + q]!;
          a[k * size + p] = c * akp - s * akq;
          a[k * size + q] = s * akp + c * akq;
        }
        for (let k = 0; k < size; k++) {
          const apk = a[p * size + k]!;
          const aqk = a[q * size + k]!;
          a[p * size + k] = c * apk - s * aqk;
          a[q * size + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < size; k++) {
          const vpk = vectors[p * size + k]!;
          const vqk = vectors[q * size + k]!;
          vectors[p * size + k] = c * vpk - s * vqk;
          vectors[q * size + k] = s * vpk + c * vqk;
        }
      }
    }
  }
  const values = new Float64Array(size);
  for (let index = 0; index < size; index++) values[index] = a[index * size + index]!;
  return { values, vectors };
}

/** Mean and covariance (from an evenly spaced sample) of `rows` rows. */
function meanAndCovariance(
  rowOf: (row: number) => Float32Array,
  rows: number,
  dimension: number,
): { mean: Float64Array; covariance: Float32Array } {
  const mean = new Float64Array(dimension);
  for (let row = 0; row < rows; row++) {
    const vector = rowOf(row);
    for (let column = 0; column < dimension; column++) mean[column] = mean[column]! + vector[column]!;
  }
  for (let column = 0; column < dimension; column++) mean[column] = mean[column]! / rows;
  const sample = evenlySpacedRows(rows, covarianceSampleSize);
  // Columns padded to a multiple of 4 so the SIMD kernel runs; the padding is zero and adds nothing.
  const width = Math.ceil(sample.length / 4) * 4;
  const transposed = createVectorKernel(dimension, dimension, width, true);
  sample.forEach((row, position) => {
    const vector = rowOf(row);
    for (let column = 0; column < dimension; column++)
      transposed.pieces[column * width + position] = vector[column]! - mean[column]!;
  });
  const covariance = new Float32Array(dimension * dimension);
  for (let column = 0; column < dimension; column++) {
    const dots = transposed.pieceDots(transposed.pieces.subarray(column * width, (column + 1) * width));
    for (let other = 0; other < dimension; other++)
      covariance[column * dimension + other] = dots[other]! / sample.length;
  }
  return { mean, covariance };
}

/** Leading eigenpairs of a symmetric positive semi-definite matrix by block subspace iteration. */
function leadingEigenpairs(
  covariance: Float32Array,
  dimension: number,
  rank: number,
): { values: Float64Array; vectors: Float64Array } {
  const block = Math.min(dimension, rank + subspaceOversampling);
  const kernel = createVectorKernel(dimension, dimension, dimension, true);
  kernel.pieces.set(covariance);
  const basis = new Float64Array(block * dimension);
  // Deterministic start: a fixed pseudo-random block, so equal histories calibrate equally.
  let state = 0x9e3779b9;
  for (let index = 0; index < basis.length; index++) {
    state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    basis[index] = state / 4_294_967_296 - 0.5;
  }
  orthonormalizeRows(basis, block, dimension);
  const row = new Float32Array(dimension);
  const product = new Float64Array(block * dimension);
  for (let iteration = 0; iteration < subspaceIterations; iteration++) {
    // Two products per orthonormalization (power iteration on C²): the block stays well conditioned.
    for (let index = 0; index < block; index++) {
      for (let column = 0; column < dimension; column++) row[column] = basis[index * dimension + column]!;
      const once = kernel.pieceDots(row);
      for (let column = 0; column < dimension; column++) row[column] = once[column]!;
      product.set(kernel.pieceDots(row), index * dimension);
    }
    basis.set(product);
    orthonormalizeRows(basis, block, dimension);
  }
  // Rayleigh–Ritz: rotate the converged subspace onto the matrix's eigenvectors within it.
  const projected = new Float64Array(block * block);
  for (let index = 0; index < block; index++) {
    for (let column = 0; column < dimension; column++) row[column] = basis[index * dimension + column]!;
    const applied = kernel.pieceDots(row);
    for (let other = 0; other < block; other++) {
      let sum = 0;
      for (let column = 0; column < dimension; column++)
        sum += basis[other * dimension + column]! * applied[column]!;
      projected[other * block + index] = sum;
    }
  }
  for (let index = 0; index < block; index++) {
    for (let other = index + 1; other < block; other++) {
      const average = (projected[index * block + other]! + projected[other * block + index]!) / 2;
      projected[index * block + other] = average;
      projected[other * block + index] = average;
    }
  }
  const small = symmetricEigen(projected, block);
  const order = Array.from(small.values.keys()).sort(
    (left, right) => small.values[right]! - small.values[left]!,
  );
  const kept = Math.min(rank, block);
  const values = new Float64Array(kept);
  const vectors = new Float64Array(kept * dimension);
  for (let index = 0; index < kept; index++) {
    const source = order[index]!;
    values[index] = small.values[source]!;
    for (let inner = 0; inner < block; inner++) {
      const weight = small.vectors[source * block + inner]!;
      if (weight === 0) continue;
      for (let column = 0; column < dimension; column++)
        vectors[index * dimension + column] =
          vectors[index * dimension + column]! + weight * basis[inner * dimension + column]!;
    }
  }
  return { values, vectors };
}

/**
 * Calibrates a user's unit piece vectors at index time: a per-user soft whitening (so the directions all of the
 * user's pieces share stop dominating similarity) and each piece's hubness in the whitened space (its mean
 * cosine to its nearest other pieces, estimated against an evenly spaced sample). Costs O(pieces · sample ·
 * dimension) with the sample bounded, so about four million piece pairs at most. Returns undefined when
 * calibration is off or the user has too few pieces to estimate it. `pieces` is the row-major matrix, or a
 * function returning row `r` (so the index need not keep a float32 copy).
 */
export function calibratePieces(
  pieces: Float32Array | ((row: number) => Float32Array),
  rows: number,
  dimension: number,
  settings: CalibrationSettings = {},
): PieceCalibration | undefined {
  const whitening = settings.whitening ?? defaultWhitening;
  if (whitening === false || !(whitening >= 0)) return undefined;
  if (rows < Math.max(2, settings.minimumCalibrationPieces ?? defaultMinimumPieces)) return undefined;
  const pieceOf =
    typeof pieces === 'function'
      ? pieces
      : (row: number) => pieces.subarray(row * dimension, (row + 1) * dimension);

  const { mean: mean64, covariance } = meanAndCovariance(pieceOf, rows, dimension);
  let trace = 0;
  for (let column = 0; column < dimension; column++) trace += covariance[column * dimension + column]!;
  const meanVariance = trace / dimension;
  if (!(meanVariance > 0)) return undefined;
  const rank = Math.min(whiteningRank, dimension - 1, rows - 1);
  const leading = leadingEigenpairs(covariance, dimension, rank);
  let leadingTotal = 0;
  for (const value of leading.values) leadingTotal += Math.max(0, value);
  const tailVariance = Math.max(0, trace - leadingTotal) / Math.max(1, dimension - rank);
  const ridge = whitening * meanVariance;
  const tailScale = 1 / Math.sqrt(tailVariance + ridge);
  const basisSquaredScaleOffsets = new Float32Array(rank);
  for (let index = 0; index < rank; index++)
    basisSquaredScaleOffsets[index] =
      1 / (Math.max(0, leading.values[index]!) + ridge) - tailScale * tailScale;
  const mean = Float32Array.from(mean64);
  const basis = Float32Array.from(leading.vectors);
  const calibration: PieceCalibration = {
    dimension,
    mean,
    basis,
    rank,
    basisSquaredScaleOffsets,
    tailScale,
    pieceScales: new Float32Array(rows),
    hubness: new Float32Array(rows),
  };

  // One pass over the pieces against a small matrix that stays in cache: the basis, the mean, and the
  // calibrated (W²-mapped, unit-scaled) sample pieces.
  const sampleSize = Math.max(
    Math.min(rows, 16),
    Math.min(
      rows,
      settings.hubnessSampleSize ?? defaultHubnessSampleSize,
      Math.floor(hubnessPairBudget / rows),
    ),
  );
  const sample = evenlySpacedRows(rows, sampleSize);
  const meanRow = rank;
  const firstSampleRow = rank + 1;
  const reference = createVectorKernel(firstSampleRow + sample.length, 1, dimension, true);
  reference.pieces.set(basis);
  reference.pieces.set(mean, meanRow * dimension);
  const basisMeans = new Float64Array(rank);
  for (let index = 0; index < rank; index++) {
    let sum = 0;
    for (let column = 0; column < dimension; column++)
      sum += basis[index * dimension + column]! * mean[column]!;
    basisMeans[index] = sum;
  }
  let meanNormSquared = 0;
  for (const value of mean) meanNormSquared += value * value;
  const sampleOffsets = new Float64Array(sample.length);
  const sampleOfRow = new Int32Array(rows).fill(-1);
  sample.forEach((row, position) => {
    sampleOfRow[row] = position;
    const mapped = calibrateQuery(calibration, pieceOf(row));
    reference.pieces.set(mapped.vector, (firstSampleRow + position) * dimension);
    sampleOffsets[position] = mapped.offset;
  });

  const neighbours =
    rows - 1 <= sample.length
      ? Math.min(hubnessNeighbours, rows - 1)
      : Math.max(1, Math.round((hubnessNeighbours * sample.length) / (rows - 1)));
  const best = new Float64Array(neighbours);
  for (let row = 0; row < rows; row++) {
    const piece = pieceOf(row);
    const dots = reference.pieceDots(piece);
    let normSquared = 0;
    for (let column = 0; column < dimension; column++) normSquared += piece[column]! * piece[column]!;
    // ‖W(p − m)‖² = t²‖p − m‖² + Σ_k (s_k² − t²) (u_k · (p − m))²
    let whitenedSquared =
      tailScale * tailScale * Math.max(0, normSquared - 2 * dots[meanRow]! + meanNormSquared);
    for (let index = 0; index < rank; index++) {
      const projection = dots[index]! - basisMeans[index]!;
      whitenedSquared += basisSquaredScaleOffsets[index]! * projection * projection;
    }
    const scale = whitenedSquared > 1e-24 ? 1 / Math.sqrt(whitenedSquared) : 0;
    calibration.pieceScales[row] = scale;

    best.fill(Number.NEGATIVE_INFINITY);
    const self = sampleOfRow[row]!;
    for (let position = 0; position < sample.length; position++) {
      if (position === self) continue;
      const similarity = dots[firstSampleRow + position]! - sampleOffsets[position]!;
      if (similarity <= best[neighbours - 1]!) continue;
      let slot = neighbours - 1;
      while (slot > 0 && best[slot - 1]! < similarity) {
        best[slot] = best[slot - 1]!;
        slot--;
      }
      best[slot] = similarity;
    }
    let total = 0;
    let counted = 0;
    for (const value of best) {
      if (value === Number.NEGATIVE_INFINITY) continue;
      total += value;
      counted++;
    }
    calibration.hubness[row] = counted > 0 ? (total / counted) * scale : 0;
  }
  return calibration;
}

/**
 * Maps a query into a calibrated index: `vector = W²(q − mean) / ‖W(q − mean)‖` and `offset = vector · mean`, so
 * that `(p · vector − offset) · pieceScale` is the whitened cosine of a piece `p` and the query.
 */
export function calibrateQuery(calibration: PieceCalibration, query: Float32Array): CalibratedQuery {
  const { dimension, mean, basis, rank, basisSquaredScaleOffsets, tailScale } = calibration;
  const centred = new Float64Array(dimension);
  let centredSquared = 0;
  for (let column = 0; column < dimension; column++) {
    const value = query[column]! - mean[column]!;
    centred[column] = value;
    centredSquared += value * value;
  }
  const tailSquared = tailScale * tailScale;
  const mapped = new Float64Array(dimension);
  for (let column = 0; column < dimension; column++) mapped[column] = tailSquared * centred[column]!;
  let whitenedSquared = tailSquared * centredSquared;
  for (let index = 0; index < rank; index++) {
    const offset = index * dimension;
    let projection = 0;
    for (let column = 0; column < dimension; column++)
      projection += basis[offset + column]! * centred[column]!;
    const coefficient = basisSquaredScaleOffsets[index]! * projection;
    whitenedSquared += coefficient * projection;
    for (let column = 0; column < dimension; column++)
      mapped[column] = mapped[column]! + coefficient * basis[offset + column]!;
  }
  const scale = whitenedSquared > 1e-24 ? 1 / Math.sqrt(whitenedSquared) : 0;
  const vector = new Float32Array(dimension);
  let offset = 0;
  for (let column = 0; column < dimension; column++) {
    const value = mapped[column]! * scale;
    vector[column] = value;
    offset += value * mean[column]!;
  }
  return { vector, offset };
}
