/**
 * The process the crash test kills: indexes a folder with the stand-in embedder in small
 * batches and prints "ack <contentHash> <docId>" the moment a commit makes a document live
 * (written synchronously, so an ack on stdout was really committed before it was printed).
 * Usage: node crash-child.js <dataDir> <srcDir>
 */
import { writeSync } from 'node:fs';
import { indexPaths } from '../../src/api/index-paths.js';
import { HashEmbedder } from './hash-embedder.js';

const [dataDir, srcDir] = process.argv.slice(2);
const embedder = await HashEmbedder.create();
writeSync(1, 'ready\n');
try {
  await indexPaths([srcDir], {
    dataDir,
    collection: 'crash',
    embedder,
    batchChunks: 3,
    onCommit: (docs) => {
      for (const d of docs) writeSync(1, `ack ${d.contentHash} ${d.docId}\n`);
    },
  });
  writeSync(1, 'done\n');
} catch (e) {
  writeSync(2, `child failed: ${(e as Error).message}\n`);
  process.exit(1);
}
