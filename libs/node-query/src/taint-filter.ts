import { TAINT_EFFECTS, qualifiedNameErrors, type Taint, type TaintEffect } from '@knm/contracts';
import { InvalidQueryError } from './query-errors.js';

/** One `taint` filter item: the node must have a taint with this key (and value, and effect, when given). */
export interface TaintFilter {
  key: string;
  value?: string;
  effect?: TaintEffect;
}

/**
 * Parses the `taint` parameter: comma-separated items, each `key`, `key=value`,
 * `key:Effect` or `key=value:Effect` (kubectl's taint syntax). Throws
 * {@link InvalidQueryError} naming the bad item.
 */
export function parseTaintFilters(text: string): TaintFilter[] {
  return text.split(',').map((raw) => {
    const item = raw.trim();
    const colon = item.lastIndexOf(':');
    const [head, effect] = colon >= 0 ? [item.slice(0, colon), item.slice(colon + 1)] : [item, undefined];
    const eq = head.indexOf('=');
    const [key, value] = eq >= 0 ? [head.slice(0, eq), head.slice(eq + 1)] : [head, undefined];
    const problems = key === '' ? ['taint key must not be empty'] : qualifiedNameErrors(key);
    if (effect !== undefined && !(TAINT_EFFECTS as readonly string[]).includes(effect)) {
      problems.push(`effect "${effect}" must be one of ${TAINT_EFFECTS.join(', ')}`);
    }
    if (problems.length > 0) {
      throw new InvalidQueryError([{ path: 'taint', message: `"${item}": ${problems.join('; ')}` }]);
    }
    const filter: TaintFilter = { key };
    if (value !== undefined) filter.value = value;
    if (effect !== undefined) filter.effect = effect as TaintEffect;
    return filter;
  });
}

/** True when one of `taints` matches `filter`. */
export function matchesTaintFilter(taints: readonly Taint[], filter: TaintFilter): boolean {
  return taints.some(
    (t) =>
      t.key === filter.key &&
      (filter.value === undefined || (t.value ?? '') === filter.value) &&
      (filter.effect === undefined || t.effect === filter.effect),
  );
}
