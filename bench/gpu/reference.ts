/**
 * The inputs and reference vectors that bench/gpu/embed_throughput.py carries to the GPU machine
 * (after bench/gpu/prepare.py): consecutive Wikipedia passages joined into texts of about 256
 * tokens (quarry's chunk size; the 256-token cut counted with the model's own tokenizer), and
 * quarry's own fp32 vectors (OnnxEmbedder, CPU) of the first REF of them, so the GPU figures
 * come with their agreement with what quarry computes.
 *   node dist/bench/gpu/reference.js [.gpu] [REF]
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadEmbedder } from '../../src/api/load-model.js';

const dir = process.argv[2] ?? '.gpu';
const REF = Number(process.argv[3] ?? 256);
const embedder = await loadEmbedder('sentence-transformers/all-MiniLM-L6-v2');
const passages = (await readFile(join(dir, 'passages.jsonl'), 'utf8'))
  .split('\n')
  .filter(Boolean)
  .map((l) => (JSON.parse(l) as { text: string }).text);
const inputs: string[] = [];
let current = '';
for (const p of passages) {
  current = current ? `${current} ${p}` : p;
  if (embedder.tokenizer.countTokens(current) >= 256) {
    inputs.push(current);
    current = '';
  }
}
await writeFile(join(dir, 'inputs.jsonl'), inputs.map((text) => JSON.stringify({ text })).join('\n') + '\n');
const vectors = await embedder.embed(inputs.slice(0, REF));
const flat = new Float32Array(vectors.length * embedder.dims);
vectors.forEach((v, i) => flat.set(v, i * embedder.dims));
await writeFile(join(dir, 'ref.f32'), Buffer.from(flat.buffer));
await embedder.close();
process.stderr.write(`${inputs.length} inputs of about 256 tokens; reference vectors of the first ${vectors.length}\n`);
