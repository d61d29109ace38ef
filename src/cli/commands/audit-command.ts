import { Option, type Command } from 'commander';
import { AUDIT_ACTIONS, readAuditLog, type AuditEntry } from '../../observe/audit.js';
import { printJson } from '../output.js';
import { intArg } from './parse.js';

interface AuditFlags {
  data: string;
  action?: string;
  collection?: string;
  since?: string;
  limit?: number;
  json?: boolean;
}

const DETAIL_CHARS = 60;

/** The detail column: the error when there was one, else the detail's fields, cut short. */
function shortDetail(e: AuditEntry): string {
  const s = e.error
    ? `${e.error.code}: ${e.error.message}`
    : Object.entries(e.detail ?? {})
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
  const one = s.replace(/\s+/g, ' ');
  return one.length > DETAIL_CHARS ? `${one.slice(0, DETAIL_CHARS - 1)}…` : one;
}

/** `quarry audit`: the administrative actions recorded in <data>/audit.log. */
export function registerAudit(program: Command): void {
  program
    .command('audit')
    .description('show the audit log: keys created and revoked, collections created and deleted, reindex, promote, rollback, gc (who, what, when, outcome)')
    .addOption(new Option('--data <dir>', 'folder holding collections (audit.log lives there)').default('.quarry'))
    .addOption(new Option('--action <action>', 'only this action').choices([...AUDIT_ACTIONS]))
    .option('--collection <name>', 'only entries about this target: a collection name, or key:<id>')
    .option('--since <iso>', 'only entries at or after this ISO 8601 date or time')
    .option('--limit <n>', 'only the newest N matching entries', intArg(1, 1_000_000))
    .option('--json', 'print JSON')
    .action(async (o: AuditFlags) => {
      const { file, entries, problems } = await readAuditLog(o.data, { action: o.action, target: o.collection, since: o.since, limit: o.limit });
      // A torn line is reported, never fatal: the entries around it are still the record.
      for (const p of problems) process.stderr.write(`quarry: warning: ${file} line ${p.line}: ${p.reason}\n`);
      if (o.json) return printJson({ entries, problems });
      if (entries.length === 0) return void process.stdout.write('no audit entries\n');
      const rows = entries.map((e) => [e.time, e.actor, e.action, e.target, e.outcome, e.forced ? 'forced' : '', shortDetail(e)]);
      const head = ['time', 'actor', 'action', 'target', 'outcome', 'forced', 'detail'];
      const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
      const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd() + '\n';
      process.stdout.write(line(head) + rows.map(line).join(''));
    });
}
