import type { CollectionManifest } from '../../src/store/manifest.js';

/** A manifest for store tests that need no model: 4-dimensional vectors, a fake identity. */
export function fakeManifest(name: string, dims = 4): CollectionManifest {
  return {
    format: 'quarry-collection',
    formatVersion: 1,
    name,
    createdAt: new Date().toISOString(),
    model: {
      id: 'test/fake-model',
      variant: 'fp32',
      revision: 'r1',
      source: 'test',
      weightsSha256: 'a'.repeat(64),
      tokenizerSha256: 'b'.repeat(64),
      dims,
      pooling: 'mean',
      normalize: true,
      maxSeqLength: 128,
      queryPrefix: '',
    },
    fingerprint: { probeSet: 'test', probes: ['p'], vectors: [Array.from({ length: dims }, (_, i) => (i === 0 ? 1 : 0))] },
    chunking: { chunkTokens: 64, overlapTokens: 8 },
    index: { type: 'flat' },
  };
}
