/**
 * A promotion gate's outcome (kept in the deployment file; cited by GateRefusedError): both
 * generations on the collection's held-out judgments. Its one definition is the wire schema
 * (src/server/schemas.ts, plain data), so the file, the error and the HTTP answer agree.
 * Type-only imports: errors.ts depends on this file, and quarry/client loads errors.ts.
 */
import type { FromSchema } from 'json-schema-to-ts';
import type { gateResult } from '../server/schemas.js';

export type GateResult = FromSchema<typeof gateResult>;
/** One generation's row: its nDCG@10 and Recall@100. */
export type GateRow = GateResult['live'];
