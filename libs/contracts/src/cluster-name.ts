import { z } from 'zod';
import { dns1123LabelErrors } from './kube-validation.js';

/**
 * The name knm gives a watched cluster. It is a DNS-1123 label (lowercase
 * alphanumerics and '-', at most 63) because it is embedded in Redis keys inside a
 * hash tag (`{<cluster>}`), in Socket.IO rooms and in URLs: so no ':', '{', '}',
 * spaces, slashes or upper case.
 */
export const ClusterNameSchema = z
  .string({ error: 'cluster name must be a string' })
  .superRefine((value, ctx) => {
    for (const problem of dns1123LabelErrors(value)) {
      ctx.addIssue({ code: 'custom', message: `cluster name "${truncate(value)}" ${problem}` });
    }
  })
  .brand<'ClusterName'>();

export type ClusterName = z.infer<typeof ClusterNameSchema>;

/** Returns the problems with `value` as a cluster name (empty when it is valid). */
export function clusterNameErrors(value: string): string[] {
  return dns1123LabelErrors(value).map((p) => `cluster name "${truncate(value)}" ${p}`);
}

/** Validates and brands a cluster name; throws a RangeError that says what is wrong. */
export function toClusterName(value: string): ClusterName {
  const errors = clusterNameErrors(value);
  if (errors.length > 0) throw new RangeError(errors.join('; '));
  return value as ClusterName;
}

function truncate(value: string): string {
  return value.length > 70 ? `${value.slice(0, 67)}...` : value;
}
