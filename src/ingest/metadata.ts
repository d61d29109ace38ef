/**
 * Document metadata is any JSON object, but not nested without bound: it is serialized,
 * hashed and matched by recursive code (JSON.stringify, filters), and a million levels
 * overflow the stack (issue 14). Filters are held to MAX_FILTER_DEPTH levels the same way.
 */
export const MAX_METADATA_DEPTH = 16;

/**
 * Whether `value` holds objects or arrays nested more than `limit` levels deep (the value
 * itself, when an object or array, is level 1). Iterative, so it cannot overflow the stack
 * on the input it refuses; it stops at the first path past the limit.
 */
export function nestedDeeperThan(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth + 1 > limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v as Record<string, unknown>)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}
