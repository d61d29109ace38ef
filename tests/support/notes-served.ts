import { join } from 'node:path';
import { after, before } from 'node:test';
import { upsertDocuments } from '../../src/api/upsert-documents.js';
import { tempDir } from './env.js';
import { MINILM, NOTES } from './notes.js';
import { createKeyCli, startServe, type Served } from './serve.js';

/**
 * The framework adapters' fixture, one per test file (it registers its own before/after hooks):
 * the notes collection, a write key scoped to it, and `quarry serve` over its data folder. Sources
 * made with `track` are closed at the end.
 */
export function notesServed(prefix: string) {
  let dir: { path: string; cleanup: () => Promise<void> };
  let served: Served;
  let key: string;
  const open: Array<{ close: () => Promise<void> }> = [];
  before(async () => {
    dir = await tempDir(prefix);
    await upsertDocuments(NOTES, { dataDir: join(dir.path, 'data'), collection: 'notes', model: MINILM });
    key = await createKeyCli(join(dir.path, 'data'), 'write', 'notes');
    served = await startServe(['--data', join(dir.path, 'data')]);
  });
  after(async () => {
    for (const s of open) await s.close();
    await served?.stop();
    await dir?.cleanup();
  });
  return {
    get data(): string {
      return join(dir.path, 'data');
    },
    /** What an HTTP source needs: the server's URL and the key. */
    client: () => ({ baseUrl: served.url, key }),
    track<T extends { close: () => Promise<void> }>(source: T): T {
      open.push(source);
      return source;
    },
  };
}
