/** The audit log's closed vocabulary: plain data, so the HTTP schemas (and the web page's types) can name it without loading the log's Node code. */
export const AUDIT_ACTIONS = [
  'key.create',
  'key.revoke',
  'collection.create',
  'collection.delete',
  'reindex',
  'promote',
  'rollback',
  'gc',
  'repair',
  'judgments.set',
  'canary.set',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export const AUDIT_OUTCOMES = ['ok', 'refused', 'failed'] as const;
/** ok: done; refused: quarry said no (bad input, a conflict, nothing there); failed: it broke. */
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];
