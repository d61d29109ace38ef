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
import { median, passagesNear256Tokens, REPO_ROOT, SHARED_DIR } from './support.js';

const BATCH = 32;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const MODEL = 'sentence-transformers/all-MiniLM-L6-v2';

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
    const passages = passagesNear256Tokens(
      docs.map((d) => d.text),
      (t) => quarry.tokenizer.countTokens(t),
    );
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
  const agreement = await int8VsFp32(modelsDir);
  console.log(JSON.stringify({ int8VsFp32: agreement }));
  const result = {
    int8VsFp32: agreement,
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

/**
 * How far the int8 file's vectors are from the fp32 file's: cosine per sentence over 100
 * varied sentences (scientific claims, encyclopedia sentences, and odd inputs).
 */
async function int8VsFp32(modelsDir: string) {
  const claims = (await readFile(join(SHARED_DIR, 'datasets', 'scifact', 'queries.jsonl'), 'utf8'))
    .split('\n')
    .filter(Boolean)
    .slice(0, 40)
    .map((l) => (JSON.parse(l) as { text: string }).text);
  const wiki: string[] = [];
  const lines = (await readFile(join(SHARED_DIR, 'datasets', 'wikipedia-en-passages', 'corpus.jsonl'), 'utf8')).split('\n');
  for (let i = 0; wiki.length < 40 && i < lines.length; i += 997) {
    if (lines[i]) wiki.push((JSON.parse(lines[i]) as { text: string }).text.split(/(?<=\.)\s/)[0]);
  }
  const odd = [
    'ok', 'Hello!', '42', 'ORD-2024-00042', 'user@example.com', 'v2.3.0 -> v2.4.1 breaking change',
    'SELECT * FROM users WHERE id = 7;', 'const x = await fetch(url);', 'Der Hund schläft im Garten.',
    '東京は日本の首都です。', 'Привет, как дела?', '¿Dónde está la biblioteca?', 'lol 😂😂', '(((nested)))',
    'The the the the the', 'A', 'naïve café résumé', 'BM25 + RRF > dense-only?', '1, 2, 3, 4, 5, 6, 7, 8, 9, 10',
    'https://example.com/a/b?c=d#e',
  ];
  const texts = [...claims, ...wiki, ...odd];
  const fp32 = await OnnxEmbedder.load(await resolveModel(`${MODEL}:fp32`, { modelsDir }));
  const int8 = await OnnxEmbedder.load(await resolveModel(`${MODEL}:int8`, { modelsDir }));
  const a = await fp32.embed(texts);
  const b = await int8.embed(texts);
  await fp32.close();
  await int8.close();
  const cos = a.map((v, i) => cosine(v, b[i]));
  const minAt = cos.indexOf(Math.min(...cos));
  return {
    sentences: texts.length,
    meanCosine: Math.round((cos.reduce((x, y) => x + y, 0) / cos.length) * 1e6) / 1e6,
    minCosine: Math.round(cos[minAt] * 1e6) / 1e6,
    minCosineText: texts[minAt],
  };
}

await main();
