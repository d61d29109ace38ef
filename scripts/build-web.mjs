// Bundles the web page (src/web) into dist/web: one minified script and one stylesheet under
// dist/web/assets, their names carrying a content hash (so the server may cache them for a
// year), and an index.html that names them. Run by `npm run build` after the typecheck
// (tsc -p tsconfig.web.json); esbuild itself does not typecheck.
import { build } from 'esbuild';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'web');
const assets = join(out, 'assets');

await rm(out, { recursive: true, force: true });
await mkdir(assets, { recursive: true });

const result = await build({
  absWorkingDir: root,
  entryPoints: { app: 'src/web/main.tsx' },
  outdir: assets,
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2022', 'chrome110', 'firefox115', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  // the licenses of what is bundled (Preact, uPlot: MIT) stay with it, at the end of each file
  legalComments: 'eof',
  metafile: true,
  logLevel: 'warning',
});

const files = Object.keys(result.metafile.outputs).map((f) => basename(f));
const script = files.find((f) => f.endsWith('.js'));
const style = files.find((f) => f.endsWith('.css'));
if (!script || !style) throw new Error(`esbuild wrote ${files.join(', ')}: expected one .js and one .css file`);

const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>quarry</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/ui/assets/${style}">
<script type="module" src="/ui/assets/${script}"></script>
</head>
<body>
<div id="app"><noscript>The quarry page needs JavaScript. The same data is available from the HTTP API (docs/server.md).</noscript></div>
</body>
</html>
`;
await writeFile(join(out, 'index.html'), html);

let raw = 0;
let gz = 0;
for (const f of [script, style]) {
  const bytes = await readFile(join(assets, f));
  raw += bytes.length;
  gz += gzipSync(bytes, { level: 9 }).length;
}
console.log(`web page: dist/web (${script}, ${style}): ${(raw / 1024).toFixed(1)} KiB, ${(gz / 1024).toFixed(1)} KiB gzipped`);
