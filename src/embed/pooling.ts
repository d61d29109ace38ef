/**
 * Pooling and normalization over the encoder's last hidden state. Hand-written because it
 * is the product's core arithmetic and runs on every vector: plain loops over typed arrays,
 * no allocation per token.
 */

export type Pooling = 'mean' | 'cls';

/**
 * Pools row `b` of a [batch, seq, dims] hidden-state tensor into `out`.
 * Mean pooling averages only positions whose attention mask is 1 (padding excluded).
 */
export function poolInto(
  hidden: Float32Array,
  seqLen: number,
  dims: number,
  b: number,
  tokens: number,
  pooling: Pooling,
  out: Float32Array,
): void {
  const base = b * seqLen * dims;
  if (pooling === 'cls') {
    for (let j = 0; j < dims; j++) out[j] = hidden[base + j];
    return;
  }
  out.fill(0);
  for (let t = 0; t < tokens; t++) {
    const row = base + t * dims;
    for (let j = 0; j < dims; j++) out[j] += hidden[row + j];
  }
  const inv = 1 / Math.max(1, tokens);
  for (let j = 0; j < dims; j++) out[j] *= inv;
}

/** Scales `v` to unit length in place. A zero vector stays zero (it cannot be normalized). */
export function l2NormalizeInPlace(v: Float32Array): Float32Array {
  let s = 0;
  for (let j = 0; j < v.length; j++) s += v[j] * v[j];
  if (s > 0) {
    const inv = 1 / Math.sqrt(s);
    for (let j = 0; j < v.length; j++) v[j] *= inv;
  }
  return v;
}

export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += a[j] * b[j];
  return s;
}

export function cosine(a: Float32Array | number[], b: Float32Array | number[]): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let j = 0; j < a.length; j++) {
    ab += a[j] * b[j];
    aa += a[j] * a[j];
    bb += b[j] * b[j];
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}
