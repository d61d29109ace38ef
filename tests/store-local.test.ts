/** The store conformance suite on the local store (a data directory of collection folders), and openStore. */
import { InvalidInputError } from '../src/errors.js';
import { LocalStore } from '../src/store/local/local-store.js';
import { openStore } from '../src/store/open-store.js';
import { tempDir } from './support/env.js';
import { runStoreConformance } from './support/store-conformance.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';

runStoreConformance('local', {
  singleWriter: true,
  makeStore: async () => {
    const dir = await tempDir('quarry-store-');
    return { store: new LocalStore(dir.path), cleanup: dir.cleanup };
  },
});

test('openStore: a folder or file:// URL is the local store; an unknown scheme is refused, credentials never echoed', () => {
  assert.ok(openStore('/tmp/quarry-x') instanceof LocalStore);
  assert.equal(openStore('file:///tmp/quarry-y').location, '/tmp/quarry-y');
  assert.throws(() => openStore('ftp://x/y'), (e: unknown) => e instanceof InvalidInputError && /unknown scheme/.test((e as Error).message));
  assert.throws(
    () => openStore('opensearch://admin:s3cret@127.0.0.1:9200'),
    (e: unknown) => e instanceof InvalidInputError && !(e as Error).message.includes('s3cret'),
  );
});
