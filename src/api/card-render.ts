/** The system card's Markdown, rendered from its facts (card.ts gathers them). */
import { join } from 'node:path';
import { describeAnnFreshness } from '../store/collection-index.js';
import { ALERTS_PATH, HTTP_EVALUATION, sh, type CardFacts } from './card-facts.js';

// --- rendering -------------------------------------------------------------------------------

/** A table cell: one line, pipes escaped. */
function cell(v: unknown): string {
  const s = v === null || v === undefined || v === '' ? '–' : String(v);
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
}

/** Inline code that survives backticks in its content. */
function code(v: string): string {
  const s = v.replace(/\s*\n\s*/g, ' ');
  const fence = s.includes('`') ? '``' : '`';
  return `${fence}${fence === '``' ? ' ' : ''}${s}${fence === '``' ? ' ' : ''}${fence}`;
}

function table(head: string[], rows: unknown[][]): string[] {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)];
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

const num = (x: number | undefined) => (x === undefined ? '–' : x.toFixed(4));

export function renderCard(f: CardFacts): string {
  const L: string[] = [];
  const d = f.data;
  const m = f.model.identity;
  const live = f.generations.generations.find((g) => g.id === f.generations.live);

  L.push(`# System card: collection ${code(f.collection)}`, '');
  L.push(
    `Generated ${f.generatedAt} by quarry ${f.quarryVersion} from the collection's stored state (live generation ${f.generations.live}, content version ${f.version}). ` +
      `It is not edited by hand: regenerate it with ${code(f.regenerate)}.`,
    '',
  );

  // --- data
  L.push('## Data sources', '');
  L.push(...table(['', ''], [
    ['documents', d.documents],
    ['chunks', d.chunks],
    ['source text', bytes(d.bytes)],
    ['ingested', d.ingested.first ? `${d.ingested.first} to ${d.ingested.last}` : 'nothing yet'],
  ]));
  L.push('', '### By format', '');
  L.push(...table(['format', 'documents', 'chunks'], d.byFormat.map((g) => [g.value, g.documents, g.chunks])));
  L.push('', '### By source', '');
  L.push(...table(['source', 'kind', 'documents', 'chunks'], d.bySource.top.map((g) => [g.value, g.kind, g.documents, g.chunks])));
  if (d.bySource.more > 0) L.push('', `…and ${d.bySource.more} more source${d.bySource.more === 1 ? '' : 's'} (${d.bySource.moreDocuments} documents).`);
  L.push('', '### Lineage', '');
  L.push('Each live document records the model that embedded it and the chunking it was cut with.', '');
  L.push(...table(['embedded with', 'documents', 'chunks'], d.lineage.embeddedWith.map((g) => [g.value, g.documents, g.chunks])));
  L.push('');
  L.push(...table(['chunking', 'documents', 'chunks'], d.lineage.chunking.map((g) => [g.value, g.documents, g.chunks])));
  L.push(
    '',
    d.lineage.consistent
      ? `Every live document was embedded with the collection's model (${code(d.lineage.expectedModel)}) and chunking.`
      : `**Mixed lineage:** not every live document matches the collection's model (${code(d.lineage.expectedModel)}) and chunking (${code(d.lineage.expectedChunking)}).`,
    '',
  );

  // --- model
  L.push('## Model', '');
  L.push(...table(['', ''], [
    ['id', m.id],
    ['variant', m.variant],
    ['revision', `${m.revision} (from ${m.source})`],
    ['weights sha256', code(m.weightsSha256)],
    ['tokenizer sha256', code(m.tokenizerSha256)],
    ['dimensions', m.dims],
    ['pooling', `${m.pooling}${m.normalize ? ', L2-normalized' : ''}`],
    ['max sequence', `${m.maxSeqLength} tokens`],
    ['query prefix', m.queryPrefix ? code(m.queryPrefix) : 'none'],
    ['fingerprint', `${f.model.fingerprint.probes} probe sentences (${f.model.fingerprint.probeSet})`],
  ]));
  const ck = f.model.check;
  L.push(
    '',
    ck.status === 'not checked'
      ? `**Fingerprint check: not checked.** ${ck.reason}. Check it with ${code(`quarry verify --data ${sh(f.dataDir)} --collection ${sh(f.collection)}`)}.`
      : ck.status === 'passed'
        ? `**Fingerprint check: passed.** The model as it loads here reproduces the stored fingerprint: lowest probe cosine ${ck.minCosine.toFixed(4)}, mean ${ck.meanCosine.toFixed(4)} (threshold ${ck.threshold}).`
        : `**Fingerprint check: FAILED.** ${ck.candidate}: lowest probe cosine ${ck.minCosine.toFixed(4)}, mean ${ck.meanCosine.toFixed(4)} (threshold ${ck.threshold})` +
          `${ck.identityDifferences.length ? `; its identity differs from the stored one (${ck.identityDifferences.join('; ')})` : ''}: the runtime, tokenizer or weights changed.`,
    '',
  );

  // --- chunking and index
  L.push('## Chunking', '');
  L.push(`${f.chunking.chunkTokens} tokens per chunk, ${f.chunking.overlapTokens} tokens of overlap, counted by the model's own tokenizer (special tokens included), preferring sentence boundaries.`, '');
  const a = f.index.ann;
  L.push('## Index', '');
  const recall = a.fallback
    ? `not measured: exact search stands in (${a.fallback})`
    : a.recallAt10 === null
      ? 'not measured'
      : a.type === 'flat'
        ? `${a.recallAt10} (exact search)`
        : `${a.recallAt10} on ${a.recallQueries} stored chunks as queries, against exact search (floor ${a.recallFloor}); ${describeAnnFreshness(a)}`;
  const lex = f.index.lexical;
  L.push(...table(['', ''], [
    ['type', f.index.settings.type],
    // what the build used (defaults filled in); before a first build, what was asked for
    ['parameters', Object.keys(a.params).length ? code(JSON.stringify(a.params)) : f.index.settings.params ? code(JSON.stringify(f.index.settings.params)) : 'defaults'],
    ['vectors', a.vectors],
    ['recall@10', recall],
    ['built', `${a.builtAt} (content version ${a.generation})`],
    [
      'BM25',
      lex
        ? `analyzer ${lex.analyzer}, ${lex.documents} chunks, ${lex.terms} terms, built ${lex.builtAt} (content version ${lex.generation})` +
          (lex.pendingChanges ? `; ${lex.pendingChanges} changes since are not in the saved file yet (readers add them on load)` : '')
        : 'not saved yet (built in memory by the first lexical search)',
    ],
  ]));
  L.push('');

  // --- evaluation
  L.push('## Evaluation', '');
  const ev = f.evaluation.latest;
  if (ev) {
    L.push(
      `Latest of ${f.evaluation.runs} recorded run${f.evaluation.runs === 1 ? '' : 's'}: ${ev.at}, dataset ${code(ev.dataset)} (split ${ev.split}, ${ev.queries} queries), model ${ev.model}, over ${ev.documents} documents / ${ev.chunks} chunks${ev.job ? ` (job ${ev.job})` : ''}.`,
      '',
      `Produced by: ${ev.command === HTTP_EVALUATION ? ev.command : code(ev.command)}.`,
      '',
    );
    const k = ev.k;
    L.push(
      ...table(
        ['mode', `nDCG@${k}`, 'Recall@100', `MRR@${k}`, `P@${k}`, 'p50 ms', 'p99 ms'],
        ev.modes.map((x) => [x.mode, num(x.metrics[`ndcg@${k}`]), num(x.metrics['recall@100']), num(x.metrics[`mrr@${k}`]), num(x.metrics[`p@${k}`]), x.latencyMs.p50.toFixed(1), x.latencyMs.p99.toFixed(1)]),
      ),
    );
  } else {
    L.push(
      'No evaluation run of this collection is recorded. A run is recorded when it goes through the server (it ingests the BEIR corpus into the collection it names, so give it a collection of its own):',
      '',
      '```sh',
      `quarry serve --data ${sh(f.dataDir)} --datasets <DIR>`,
      `curl -X POST http://127.0.0.1:8080/collections/${f.collection}/evaluations -H "Authorization: Bearer $KEY" -H 'content-type: application/json' -d '{"dataset": "<BEIR folder under DIR>"}'`,
      '```',
    );
  }
  if (f.evaluation.unreadable > 0) L.push('', `(${f.evaluation.unreadable} line(s) of the evaluation history could not be read.)`);
  L.push('', '### Promotion gate', '');
  const j = f.evaluation.judgments;
  L.push(j ? `Held-out judgments: ${j.queries} queries from ${code(j.source)}, set ${j.setAt}.` : 'Held-out judgments: none set.', '');
  const gate = f.evaluation.gate;
  if (gate) {
    L.push(
      `Last gate, ${gate.at}: shadow generation ${gate.shadow.generation} against live generation ${gate.live.generation}, ${gate.mode} search on ${gate.queries} held-out queries, tolerance ${gate.tolerance}: ` +
        `**${gate.passed ? 'passed' : 'refused'}**${gate.forced ? ' (promoted with --force anyway)' : ''}.`,
      '',
      ...table(['', 'generation', 'model', 'nDCG@10', 'Recall@100'], [
        ['live', gate.live.generation, gate.live.model, num(gate.live['ndcg@10']), num(gate.live['recall@100'])],
        ['shadow', gate.shadow.generation, gate.shadow.model, num(gate.shadow['ndcg@10']), num(gate.shadow['recall@100'])],
      ]),
      '',
      `Produced by: ${code(gate.command)}.`,
    );
  } else {
    const dataArg = `--data ${sh(f.dataDir)} --collection ${sh(f.collection)}`;
    L.push(
      'No promotion gate has run. One runs when a new generation is promoted:',
      '',
      '```sh',
      ...(j ? [] : [`quarry judgments set <BEIR folder or .jsonl> ${dataArg}`]),
      `quarry reindex ${dataArg} --model <model>`,
      `quarry promote ${dataArg}`,
      '```',
    );
  }
  L.push('');

  // --- alerts
  L.push('## Alert thresholds', '');
  if (f.alerts.problem) L.push(`The alert rules could not be read: ${f.alerts.problem}.`);
  else {
    L.push(`From ${code(ALERTS_PATH)} (${f.alerts.rules.length} alerts; load the whole file, the alerts read its recording rules):`, '');
    L.push(...table(['alert', 'severity', 'for', 'summary', 'expression'], f.alerts.rules.map((r) => [r.name, r.severity, r.for, r.summary, code(r.expr)])));
  }
  L.push('');

  // --- limitations
  L.push('## Known limitations', '', '### From this collection\'s state', '');
  const fromState = f.limitations.filter((x) => x.source === 'state');
  L.push(...(fromState.length ? fromState.map((x) => `- ${x.text}`) : ['- None found.']));
  L.push('', '### Of quarry itself', '');
  L.push(...f.limitations.filter((x) => x.source === 'standing').map((x) => `- ${x.text}`), '');

  // --- history
  L.push('## Version history', '', '### Content versions', '');
  L.push(
    ...table(
      ['version', 'created', 'kind', 'documents', 'chunks', 'model', 'index', 'note'],
      f.versions.map((v) => [v.current ? `**${v.version}** (current)` : v.version, v.createdAt, v.kind, v.documents, v.chunks, v.model, String(v.index.type ?? ''), v.note]),
    ),
  );
  L.push('', '### Model generations', '');
  const gens = f.generations;
  L.push(
    ...table(
      ['generation', 'state', 'model', 'chunking', 'index', 'created', 'promoted', 'retired', 'gate'],
      gens.generations.map((g) => [
        g.id === gens.live ? `**${g.id}** (live)` : g.id,
        g.state,
        g.model,
        `${g.chunking.chunkTokens}/${g.chunking.overlapTokens}`,
        g.index.type,
        g.createdAt,
        g.promotedAt,
        g.retiredAt,
        g.gate ? `${g.gate.passed ? 'passed' : 'refused'}${g.gate.forced ? ', forced' : ''} (${g.gate.at})` : '',
      ]),
    ),
  );
  const notes: string[] = [];
  if (gens.shadow !== null) notes.push(`generation ${gens.shadow} is the shadow`);
  if (gens.previous.length) notes.push(`a rollback returns to generation ${gens.previous.at(-1)}`);
  notes.push(`gc keeps up to ${gens.retention} retired generation${gens.retention === 1 ? '' : 's'} for rollback`);
  L.push('', `Live: generation ${gens.live}${live ? ` (${live.model})` : ''}; ${notes.join('; ')}.`, '');
  return L.join('\n');
}
