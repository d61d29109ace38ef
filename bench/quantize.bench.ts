/**
 * npm run bench:quantize — which int8 graph of all-MiniLM-L6-v2 embeds fastest with the least
 * change: every candidate file (argv, or QUANT_DIR/*.onnx) against the fp32 export, on 64
 * SciFact passages of 240-254 tokens, rounds interleaved so load changes hit every candidate
 * alike. Reports passages/s (median of rounds), the ratio to fp32, and the cosine of each
 * passage's vector to fp32's (mean, min). Writes bench/results/quantize.json.
 */
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus } from 'node:os';
import { basename, join } from 'node:path';
import { defaultModelsDir, resolveModel } from '../src/embed/models/index.js';
import { OnnxEmbedder } from '../src/embed/onnx-embedder.js';
import { cosine } from '../src/embed/pooling.js';
import { median, passagesNear256Tokens, REPO_ROOT, SHARED_DIR } from './support.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const MODEL = 'sentence-transformers/all-MiniLM-L6-v2';

async function main() {
  const fp32 = await resolveModel(`${MODEL}:fp32`, { modelsDir: defaultModelsDir() });
  const dir = process.env.QUANT_DIR;
  const files = process.argv.slice(2).length > 0 ? process.argv.slice(2) : dir ? (await readdir(dir)).filter((f) => f.endsWith('.onnx')).map((f) => join(dir, f)) : [];
  const candidates = [{ name: 'fp32', path: fp32.weightsPath }, ...files.map((f) => ({ name: basename(f, '.onnx'), path: f }))];
  const embedders = await Promise.all(candidates.map((c) => OnnxEmbedder.load({ ...fp32, weightsPath: c.path })));
  const tokenizer = embedders[0].tokenizer;
  const corpus = (await readFile(join(SHARED_DIR, 'datasets', 'scifact', 'corpus.jsonl'), 'utf8')).split('\n').filter(Boolean);
  const passages = passagesNear256Tokens(
    corpus.map((line) => (JSON.parse(line) as { text: string }).text),
    (t) => tokenizer.countTokens(t),
  );
  const times: number[][] = candidates.map(() => []);
  const vectors: Float32Array[][] = [];
  for (let i = 0; i < embedders.length; i++) vectors.push(await embedders[i].embed(passages.slice(0, 4))); // warm-up
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < embedders.length; i++) {
      const t = performance.now();
      vectors[i] = await embedders[i].embed(passages);
      times[i].push((performance.now() - t) / 1000);
    }
  }
  const base = passages.length / median(times[0]);
  const rows = candidates.map((c, i) => {
    const cos = passages.map((_, j) => cosine(vectors[0][j], vectors[i][j]));
    return {
      name: c.name,
      passagesPerSecond: Math.round((passages.length / median(times[i])) * 10) / 10,
      ratioToFp32: Math.round((passages.length / median(times[i]) / base) * 100) / 100,
      cosineToFp32: { mean: Number((cos.reduce((a, b) => a + b, 0) / cos.length).toFixed(4)), min: Number(Math.min(...cos).toFixed(4)) },
    };
  });
  const result = { command: 'npm run bench:quantize -- <files>', cpu: cpus()[0]?.model, cores: availableParallelism(), rounds: ROUNDS, passages: passages.length, rows };
  console.table(rows.map((r) => ({ ...r, cosineToFp32: `${r.cosineToFp32.mean} (min ${r.cosineToFp32.min})` })));
  await mkdir(join(REPO_ROOT, 'bench', 'results'), { recursive: true });
  await writeFile(join(REPO_ROOT, 'bench', 'results', 'quantize.json'), JSON.stringify(result, null, 2) + '\n');
  for (const e of embedders) await e.close();
}

await main();
