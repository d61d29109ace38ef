import type { MetadataFilter, MetadataFilters } from '@llamaindex/core/vector-store';
import { InvalidInputError } from '../../errors.js';

/** LlamaIndex's filter operators in quarry's filter language (src/retrieve/filter/tree.ts). */
const OPERATORS: Record<string, string> = { '==': '$eq', '!=': '$ne', '>': '$gt', '>=': '$gte', '<': '$lt', '<=': '$lte', in: '$in', nin: '$nin' };

/**
 * LlamaIndex MetadataFilters as a quarry filter: each filter a condition on its key, joined
 * by the condition (and, the default, or or). Operators quarry has no exact equivalent for
 * (any, all, contains, text_match, is_empty) are refused by name, never dropped.
 */
export function toQuarryFilter(filters: MetadataFilters): Record<string, unknown> {
  const parts = filters.filters.map(conditionOf);
  if (parts.length === 0) return {};
  if (parts.length === 1) return parts[0];
  return { [filters.condition === 'or' ? '$or' : '$and']: parts };
}

function conditionOf(f: MetadataFilter): Record<string, unknown> {
  const op = OPERATORS[f.operator];
  if (!op) {
    throw new InvalidInputError(`quarry's filters have no equivalent of the "${f.operator}" operator (filter on "${f.key}"); use ==, !=, >, >=, <, <=, in or nin`, { field: 'filters' });
  }
  if ((op === '$in' || op === '$nin') !== Array.isArray(f.value)) {
    throw new InvalidInputError(`filter on "${f.key}": "${f.operator}" takes ${op === '$in' || op === '$nin' ? 'a list' : 'one value'}`, { field: 'filters' });
  }
  return { [f.key]: { [op]: f.value } };
}
