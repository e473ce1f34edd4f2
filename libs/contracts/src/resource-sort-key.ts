import { qualifiedNameErrors } from './kube-validation.js';
import { RESOURCE_MEASURES, type ResourceMeasure } from './node-resources.js';

/** `<resource>.<measure>Percent`: a node's requests, limits or usage of a resource as a percent of allocatable. */
export type ResourcePercentKey = `${string}.${ResourceMeasure}Percent`;

/** What a {@link ResourcePercentKey} names. */
export interface ResourcePercentRef {
  resource: string;
  measure: ResourceMeasure;
}

const SUFFIXES = new Map<string, ResourceMeasure>(RESOURCE_MEASURES.map((m) => [`${m}Percent`, m]));

/**
 * Reads `cpu.requestsPercent` or `nvidia.com/gpu.usagePercent`: resource names may
 * hold dots and a slash, so the measure is what follows the LAST dot. Undefined when
 * the text is not of that form; {@link resourceNameErrors} says whether the resource
 * is a valid name.
 */
export function parseResourcePercentKey(text: string): ResourcePercentRef | undefined {
  const dot = text.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const measure = SUFFIXES.get(text.slice(dot + 1));
  return measure === undefined ? undefined : { resource: text.slice(0, dot), measure };
}

/** The key of `resource`'s `measure` percent (`cpu`, `requests` -> `cpu.requestsPercent`). */
export function resourcePercentKey(resource: string, measure: ResourceMeasure): ResourcePercentKey {
  return `${resource}.${measure}Percent`;
}

/**
 * Why `name` is not a Kubernetes resource name (`cpu`, `hugepages-2Mi`,
 * `nvidia.com/gpu`: a qualified name); empty when it is one.
 */
export function resourceNameErrors(name: string): string[] {
  return qualifiedNameErrors(name);
}
