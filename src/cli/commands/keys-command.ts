import { Option, type Command } from 'commander';
import { ALL_COLLECTIONS, createKey, keysFileOf, listKeys, revokeKey, SCOPES, type KeyInfo } from '../../server/keys.js';
import { InvalidInputError, QuarryError } from '../../errors.js';
import { appendAudit, audited, auditFileOf, AuditLogError, defaultActor, errorOf, outcomeOf } from '../../observe/audit.js';
import { printJson } from '../output.js';

interface KeysFlags {
  data: string;
  keys?: string;
}

const collect = (value: string, prev: string[] = []) => [...prev, value];
const fileOf = (o: KeysFlags) => o.keys ?? keysFileOf(o.data);

function withKeysOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--data <dir>', 'folder holding collections (keys.json lives there)').default('.quarry'))
    .option('--keys <file>', 'API keys file (default <data>/keys.json)');
}

/**
 * `quarry keys`: API keys for `quarry serve`. Only a salted hash of each key is stored. Creating
 * and revoking are recorded in `<data>/audit.log` with the key's id, scope and collections,
 * never the key itself.
 */
export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('API keys for `quarry serve`: create, list, revoke');

  withKeysOptions(
    keys
      .command('create')
      .description('create a key and print it (only it, on stdout, once: it is not stored)')
      .addOption(new Option('--scope <scope>', 'read (search), write (documents, rollback), admin (collections, evaluations, /metrics, /readyz detail) or metrics (/metrics and /readyz detail only)').choices([...SCOPES]).makeOptionMandatory())
      .option('--collection <name>', `a collection the key may use (repeatable), or "${ALL_COLLECTIONS}" for all`, collect)
      .option('--label <text>', 'a note to recognize the key by in `quarry keys list`'),
  ).action(async (o: KeysFlags & { scope: string; collection?: string[]; label?: string }) => {
    const actor = defaultActor();
    let created: Awaited<ReturnType<typeof createKey>>;
    try {
      if (!o.collection || o.collection.length === 0) {
        throw new InvalidInputError(`name the collections the key may use with --collection NAME (repeatable), or --collection '${ALL_COLLECTIONS}' for all`, { field: 'collection' });
      }
      created = await createKey(fileOf(o), { scope: o.scope, collections: o.collection, label: o.label });
    } catch (e) {
      await appendAudit(o.data, { actor, action: 'key.create', target: 'key:(not created)', outcome: outcomeOf(e), detail: { scope: o.scope, collections: o.collection ?? [] }, error: errorOf(e) }).catch(
        () => undefined,
      );
      throw e;
    }
    const { key, info } = created;
    try {
      await appendAudit(o.data, {
        actor,
        action: 'key.create',
        target: `key:${info.id}`,
        outcome: 'ok',
        detail: { id: info.id, scope: info.scope, collections: info.collections, ...(info.label ? { label: info.label } : {}) },
      });
    } catch (e) {
      // No key goes out that the log cannot account for: take it back before reporting.
      await revokeKey(fileOf(o), info.id);
      throw new AuditLogError(auditFileOf(o.data), `no key was created: ${(e as Error).message}`, e);
    }
    process.stdout.write(`${key}\n`);
    process.stderr.write(`quarry: created key ${info.id} (${info.scope} on ${info.collections.join(', ')}); it is shown only now\n`);
  });

  withKeysOptions(keys.command('list').description('list keys: id, scope, collections, creation time (never the key)'))
    .option('--json', 'print JSON')
    .action(async (o: KeysFlags & { json?: boolean }) => {
      const list = await listKeys(fileOf(o));
      if (o.json) return printJson({ keys: list });
      if (list.length === 0) return void process.stdout.write('no keys\n');
      for (const k of list) {
        process.stdout.write(`${k.id}  ${k.scope.padEnd(5)}  ${k.createdAt}  ${k.collections.join(',')}${k.label ? `  ${k.label}` : ''}\n`);
      }
    });

  withKeysOptions(keys.command('revoke').description('revoke a key by id: it stops working on the next request').argument('<id>', 'key id from `quarry keys list`')).action(
    async (id: string, o: KeysFlags) => {
      const detail = (k: KeyInfo) => ({ id: k.id, scope: k.scope, collections: k.collections, ...(k.label ? { label: k.label } : {}) });
      await audited(o.data, { action: 'key.revoke', target: `key:${id}`, detail }, async () => {
        const k = (await listKeys(fileOf(o))).find((x) => x.id === id);
        if (!k || !(await revokeKey(fileOf(o), id))) throw new QuarryError('KEY_NOT_FOUND', 'not-found', `no key with id ${JSON.stringify(id)}; see \`quarry keys list\``, { id });
        return k;
      });
      process.stdout.write(`revoked ${id}\n`);
    },
  );
}
