/**
 * A process that appends to an audit log as fast as it can, for the concurrency test:
 * `node audit-child.js <dataDir> <tag> <count>`. Each entry carries a large detail, so an
 * append split into several writes would interleave with the other process's.
 */
import { appendAudit } from '../../src/observe/audit.js';

const [dataDir, tag, count] = process.argv.slice(2);
const filler = tag.repeat(Math.ceil(6000 / tag.length)).slice(0, 6000);
for (let i = 0; i < Number(count); i++) {
  await appendAudit(dataDir, { actor: `local:${tag}`, action: 'gc', target: tag, outcome: 'ok', detail: { seq: i, filler } });
}
