import {
  BaseTranslator,
  Comparators,
  Operators,
  type Comparator,
  type Comparison,
  type Operation,
  type Operator,
  type StructuredQuery,
} from '@langchain/core/structured_query';
import { InvalidInputError } from '../../errors.js';
import type { QuarryFilter, QuarryVectorStore } from './vector-store.js';

const COMPARATORS: Record<string, string> = { eq: '$eq', ne: '$ne', gt: '$gt', gte: '$gte', lt: '$lt', lte: '$lte', in: '$in', nin: '$nin' };
/** What `not` of each comparison is in quarry's language; ranges have none ($lte does not match a missing field, not($gt) does). */
const NEGATED: Record<string, string> = { $eq: '$ne', $ne: '$eq', $in: '$nin', $nin: '$in' };

/**
 * LangChain's structured query (the filter a self-query retriever writes: comparisons joined
 * by and/or/not) in quarry's filter language. `not` is pushed down by De Morgan onto
 * equality and membership, which quarry can negate exactly; a `not` over a range, and any
 * comparator quarry has no equivalent for, is an error saying so, never a dropped condition.
 */
export class QuarryTranslator extends BaseTranslator<QuarryVectorStore> {
  declare VisitOperationOutput: QuarryFilter;
  declare VisitComparisonOutput: QuarryFilter;
  declare VisitStructuredQueryOutput: { filter?: QuarryFilter };
  allowedOperators: Operator[] = [Operators.and, Operators.or, Operators.not];
  allowedComparators: Comparator[] = [Comparators.eq, Comparators.ne, Comparators.gt, Comparators.gte, Comparators.lt, Comparators.lte];

  formatFunction(func: Operator | Comparator): string {
    const f = COMPARATORS[func] ?? (func === 'and' || func === 'or' ? `$${func}` : undefined);
    if (!f) throw new InvalidInputError(`quarry's filters have no "${func}"; they take eq, ne, gt, gte, lt, lte, in, nin, and, or, and not over eq, ne, in, nin`);
    return f;
  }

  visitComparison(c: Comparison): QuarryFilter {
    return { [c.attribute]: { [this.formatFunction(c.comparator)]: c.value } };
  }

  visitOperation(op: Operation): QuarryFilter {
    const args = (op.args ?? []).map((a) => a.accept(this) as QuarryFilter);
    if (op.operator === 'not') {
      if (args.length !== 1) throw new InvalidInputError('not takes one condition');
      return negate(args[0]);
    }
    return { [this.formatFunction(op.operator)]: args };
  }

  visitStructuredQuery(q: StructuredQuery): { filter?: QuarryFilter } {
    return q.filter ? { filter: q.filter.accept(this) as QuarryFilter } : {};
  }

  mergeFilters(defaultFilter: QuarryFilter | undefined, generated: QuarryFilter | undefined, mergeType: 'and' | 'or' | 'replace' = 'and', forceDefaultFilter = false): QuarryFilter | undefined {
    if (!defaultFilter || Object.keys(defaultFilter).length === 0) return mergeType === 'replace' || !forceDefaultFilter ? generated : undefined;
    if (!generated || Object.keys(generated).length === 0) return defaultFilter;
    if (mergeType === 'replace') return generated;
    return { [`$${mergeType}`]: [defaultFilter, generated] };
  }
}

/** not(f) in quarry's language, or an error when quarry cannot say it exactly. */
function negate(f: QuarryFilter): QuarryFilter {
  const entries = Object.entries(f);
  if (entries.length !== 1) return negate({ $and: entries.map(([k, v]) => ({ [k]: v })) });
  const [key, value] = entries[0];
  if (key === '$and' || key === '$or') return { [key === '$and' ? '$or' : '$and']: (value as QuarryFilter[]).map(negate) };
  const ops = Object.entries(value as Record<string, unknown>);
  if (ops.length === 1 && NEGATED[ops[0][0]]) return { [key]: { [NEGATED[ops[0][0]]]: ops[0][1] } };
  throw new InvalidInputError(`quarry's filters cannot negate ${JSON.stringify(f)} exactly (a range's negation would also have to match documents without the field)`);
}
