/**
 * npm run bench:embed — embedding throughput: quarry's embedder against the
 * @huggingface/transformers feature-extraction pipeline on the same ONNX files, the same
 * inputs and the same batch size, in one run. Reports medians of several rounds and the
 * ratio quarry / pipeline (target: >= 1.5x). Writes bench/results/embed.json.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { env, pipeline } from '@huggingface/transformers';
import { defaultModelsDir, resolveModel } from '../src/embed/models/index.js';
import { OnnxEmbedder } from '../src/embed/onnx-embedder.js';
import { cosine } from '../src/embed/pooling.js';
import { REPO_ROOT, SHARED_DIR } from './support.js';

const BATCH = 32;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const MODEL = 'sentence-transformers/all-MiniLM-L6-v2';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function inputs() {
  const corpus = (await readFile(join(SHARED_DIR, 'datasets', 'scifact', 'corpus.jsonl'), 'utf8')).split('\n').filter(Boolean);
  const docs = corpus.slice(0, 400).map((l) => JSON.parse(l) as { title: string; text: string });
  // 256 short sentences: the first sentence of each abstract, trimmed to at most ~25 words.
  const short = docs.slice(0, 256).map((d) => d.text.split(/(?<=\.)\s/)[0].split(' ').slice(0, 25).join(' '));
  return { short, docs };
}

async function main() {
  const modelsDir = defaultModelsDir();
  const { short, docs } = await inputs();
  const rows: Array<Record<string, unknown>> = [];
  env.allowRemoteModels = false;
  env.localModelPath = modelsDir + '/';

  for (const variant of ['int8', 'fp32'] as const) {
    const resolved = await resolveModel(`${MODEL}:${variant}`, { modelsDir });
    const quarry = await OnnxEmbedder.load(resolved, { maxBatchSize: BATCH });
    // 64 passages of about 256 tokens: abstracts cut to 254 content tokens by the model's tokenizer.
    const passages: string[] = [];
    for (const d of docs) {
      if (passages.length === 64) break;
      if (quarry.tokenizer.countTokens(d.text) >= 254) passages.push(d.text);
    }
    const hf = await pipeline('feature-extraction', resolved.spec.folder, { dtype: variant === 'int8' ? 'q8' : 'fp32', device: 'cpu' });
    for (const [label, texts] of [
      ['256 short sentences', short],
      ['64 passages of ~256 tokens', passages],
    ] as const) {
      const q: number[] = [];
      const p: number[] = [];
      let agreement = 1;
      // warm-up both once, then alternate rounds so drift in machine load hits both alike
      await quarry.embed(texts.slice(0, BATCH));
      await hf(texts.slice(0, BATCH), { pooling: 'mean', normalize: true });
      for (let r = 0; r < ROUNDS; r++) {
        let t = performance.now();
        const qv = await quarry.embed([...texts]);
        q.push(performance.now() - t);
        t = performance.now();
        const pv: number[][] = [];
        for (let i = 0; i < texts.length; i += BATCH) {
          const out = await hf(texts.slice(i, i + BATCH), { pooling: 'mean', normalize: true });
          pv.push(...(out.tolist() as number[][]));
        }
        p.push(performance.now() - t);
        if (r === 0) agreement = Math.min(...qv.map((v, i) => cosine(v, pv[i])));
      }
      const qps = texts.length / (median(q) / 1000);
      const pps = texts.length / (median(p) / 1000);
      const row = {
        variant,
        input: label,
        texts: texts.length,
        quarryTextsPerSec: Math.round(qps * 10) / 10,
        pipelineTextsPerSec: Math.round(pps * 10) / 10,
        ratio: Math.round((qps / pps) * 100) / 100,
        minCosineQuarryVsPipeline: Math.round(agreement * 1e6) / 1e6,
        quarryMedianMs: Math.round(median(q)),
        pipelineMedianMs: Math.round(median(p)),
      };
      rows.push(row);
      console.log(JSON.stringify(row));
    }
    await quarry.close();
    await hf.dispose();
  }
  const result = {
    command: 'npm run bench:embed',
    date: new Date().toISOString(),
    machine: { cpus: availableParallelism(), model: cpus()[0]?.model, node: process.version },
    batchSize: BATCH,
    rounds: ROUNDS,
    rows,
  };
  await mkdir(join(REPO_ROOT, 'bench', 'results'), { recursive: true });
  await writeFile(join(REPO_ROOT, 'bench', 'results', 'embed.json'), JSON.stringify(result, null, 2) + '\n');
  console.log(`wrote bench/results/embed.json`);
}

await main();
