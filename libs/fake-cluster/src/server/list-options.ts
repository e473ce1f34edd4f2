import {
  parseLabelSelector,
  SelectorParseError,
  matchesLabelSelector,
  type LabelSelector,
} from '@knm/contracts';
import { statusErrors } from '../api/api-status.js';
import { parseQueryBool } from '../api/query-bool.js';
import { matchesFieldSelector, parseFieldSelector, type FieldSelector } from '../api/field-selector.js';
import type { KubeObject } from '../api/kube-object.js';
import type { ResourceDef } from '../resource-registry.js';

/** The list and watch query parameters kube-sim understands (others are ignored, as upstream). */
export interface ListOptions {
  labelSelectorText: string | undefined;
  fieldSelectorText: string | undefined;
  labelSelector: LabelSelector | undefined;
  fieldSelector: FieldSelector | undefined;
  limit: number | undefined;
  continueToken: string | undefined;
  resourceVersion: string | undefined;
  /** As sent (unknown values included: {@link validateListOptions} refuses them with a 422). */
  resourceVersionMatch: string | undefined;
  watch: boolean;
  allowWatchBookmarks: boolean;
  sendInitialEvents: boolean | undefined;
  timeoutSeconds: number | undefined;
}

function intParam(query: URLSearchParams, name: string): number | undefined {
  const value = query.get(name);
  if (value === null || value === '') return undefined;
  if (!/^-?\d+$/.test(value)) {
    throw statusErrors.badRequest(`invalid value for ${name}: ${JSON.stringify(value)} is not an integer`);
  }
  return Number(value);
}

/**
 * Parses list/watch parameters; bad selectors or numbers answer 400 BadRequest, as
 * upstream. Combinations are checked afterwards by {@link validateListOptions}.
 */
export function parseListOptions(query: URLSearchParams, resource: ResourceDef): ListOptions {
  const labelSelectorText = query.get('labelSelector') ?? undefined;
  const fieldSelectorText = query.get('fieldSelector') ?? undefined;
  let labelSelector: LabelSelector | undefined;
  if (labelSelectorText !== undefined && labelSelectorText.trim() !== '') {
    try {
      labelSelector = parseLabelSelector(labelSelectorText);
    } catch (err) {
      if (err instanceof SelectorParseError) throw statusErrors.badRequest(err.message);
      throw err;
    }
  }
  const fieldSelector =
    fieldSelectorText !== undefined && fieldSelectorText.trim() !== ''
      ? parseFieldSelector(fieldSelectorText, resource.fields, resource.plural)
      : undefined;
  const match = query.get('resourceVersionMatch');
  const limit = intParam(query, 'limit');
  const timeoutSeconds = intParam(query, 'timeoutSeconds');
  return {
    labelSelectorText,
    fieldSelectorText,
    labelSelector,
    fieldSelector,
    limit: limit !== undefined && limit > 0 ? limit : undefined,
    continueToken: query.get('continue') || undefined,
    resourceVersion: query.get('resourceVersion') ?? undefined,
    resourceVersionMatch: match || undefined,
    watch: parseQueryBool(query.get('watch')) ?? false,
    allowWatchBookmarks: parseQueryBool(query.get('allowWatchBookmarks')) ?? false,
    sendInitialEvents: parseQueryBool(query.get('sendInitialEvents')),
    timeoutSeconds: timeoutSeconds !== undefined && timeoutSeconds > 0 ? timeoutSeconds : undefined,
  };
}

/** True when the options carry a label or field selector (lists then omit remainingItemCount). */
export function hasSelectors(options: ListOptions): boolean {
  return options.labelSelector !== undefined || options.fieldSelector !== undefined;
}

/** The predicate selecting objects for a list or watch: namespace, labels, fields. */
export function objectMatcher(
  resource: ResourceDef,
  namespace: string | undefined,
  options: ListOptions,
): (object: KubeObject) => boolean {
  const { labelSelector, fieldSelector } = options;
  return (object) => {
    if (namespace !== undefined && object.metadata.namespace !== namespace) return false;
    if (labelSelector && !matchesLabelSelector(labelSelector, object.metadata.labels)) return false;
    if (fieldSelector && !matchesFieldSelector(fieldSelector, resource.fieldSet(object))) return false;
    return true;
  };
}

/**
 * Parses a client resourceVersion. They are opaque to clients, but kube-sim issues
 * decimal integers, so anything else is a 400 as the API server answers for a
 * version it cannot parse.
 */
export function parseResourceVersion(value: string): number {
  if (!/^\d+$/.test(value))
    throw statusErrors.badRequest(`invalid resource version: ${JSON.stringify(value)}`);
  return Number(value);
}
