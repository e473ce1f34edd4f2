import {
  parseResourcePercentKey,
  resourceNameErrors,
  resourcePercent,
  type ResourceFigures,
  type ResourcePercentRef,
} from '@knm/contracts';
import { InvalidQueryError } from './query-errors.js';

/** The comparisons a `resource` filter item may use. */
export const RESOURCE_FILTER_OPERATORS = ['>=', '<=', '>', '<'] as const;
export type ResourceFilterOperator = (typeof RESOURCE_FILTER_OPERATORS)[number];

/** One `resource` filter item: the node's `measure` of `resource`, in percent of allocatable, `op` `value`. */
export interface ResourceFilter extends ResourcePercentRef {
  op: ResourceFilterOperator;
  value: number;
}

// The key is everything before the first comparison sign: resource names hold no '<', '>' or '='.
const ITEM = /^([^<>=]+)(>=|<=|>|<)\s*(.+)$/;

/**
 * Parses the `resource` parameter: comma-separated items, each
 * `<resource>.<requests|limits|usage>Percent<op><number>` (`cpu.requestsPercent>80`,
 * `nvidia.com/gpu.requestsPercent>=50`). Throws {@link InvalidQueryError} naming the
 * bad item and what is wrong with it.
 */
export function parseResourceFilters(text: string): ResourceFilter[] {
  return text.split(',').map((raw) => {
    const item = raw.trim();
    const bad = (message: string): InvalidQueryError =>
      new InvalidQueryError([{ path: 'resource', message: `"${item.slice(0, 100)}": ${message}` }]);
    const match = ITEM.exec(item);
    if (!match) {
      throw bad(
        'must be <resource>.<requests|limits|usage>Percent followed by >, >=, < or <= and a number, e.g. cpu.requestsPercent>80',
      );
    }
    const [, rawKey = '', op = '>', rawValue = ''] = match;
    const key = rawKey.trim();
    const ref = parseResourcePercentKey(key);
    if (!ref) {
      throw bad(`"${key.slice(0, 70)}" must be <resource>.requestsPercent, .limitsPercent or .usagePercent`);
    }
    const problems = resourceNameErrors(ref.resource);
    if (problems.length > 0) throw bad(`resource "${ref.resource.slice(0, 70)}": ${problems.join('; ')}`);
    const value = Number(rawValue.trim());
    if (rawValue.trim() === '' || !Number.isFinite(value)) {
      throw bad(`"${rawValue.trim().slice(0, 30)}" is not a number (a percent, e.g. 80 or 12.5)`);
    }
    return { ...ref, op: op as ResourceFilterOperator, value };
  });
}

/** True when `figures` (the node's figures of the filter's resource) satisfy `filter`; an unknown percent never does. */
export function matchesResourceFilter(figures: ResourceFigures | undefined, filter: ResourceFilter): boolean {
  const percent = resourcePercent(figures, filter.measure);
  if (percent === null) return false;
  switch (filter.op) {
    case '>':
      return percent > filter.value;
    case '>=':
      return percent >= filter.value;
    case '<':
      return percent < filter.value;
    case '<=':
      return percent <= filter.value;
  }
}
