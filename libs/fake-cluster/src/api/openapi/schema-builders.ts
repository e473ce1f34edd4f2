/**
 * A small vocabulary for writing OpenAPI v3 schemas of the kinds kube-sim serves:
 * the same shapes the API server publishes (`$ref` wrapped in `allOf`, maps as
 * `additionalProperties`, RFC 3339 `date-time` strings), so `kubectl explain` walks
 * them as it walks a real server's.
 */

/** An OpenAPI v3 schema object (the subset kube-sim publishes). */
export interface Schema {
  description?: string;
  type?: 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array';
  format?: string;
  default?: string | number | boolean;
  enum?: string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  additionalProperties?: Schema;
  allOf?: { $ref: string }[];
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-group-version-kind'?: { group: string; version: string; kind: string }[];
  'x-kubernetes-list-type'?: string;
  'x-kubernetes-patch-strategy'?: 'merge';
  'x-kubernetes-patch-merge-key'?: string;
}

/** The components/schemas key of a named type, e.g. `io.k8s.api.core.v1.Node`. */
export type SchemaName = string;

export const str = (description: string, extra: Partial<Schema> = {}): Schema => ({
  type: 'string',
  description,
  ...extra,
});
export const int = (description: string): Schema => ({ type: 'integer', format: 'int32', description });
export const int64 = (description: string): Schema => ({ type: 'integer', format: 'int64', description });
export const bool = (description: string): Schema => ({ type: 'boolean', description });
export const time = (description: string): Schema => ({ type: 'string', format: 'date-time', description });
export const strings = (description: string): Schema => ({ type: 'array', items: str(''), description });
export const stringMap = (description: string): Schema => ({
  type: 'object',
  additionalProperties: str(''),
  description,
});
export const quantities = (description: string): Schema => ({
  type: 'object',
  additionalProperties: {
    allOf: [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity' }],
  },
  description,
});
export const intOrString = (description: string): Schema => ({
  'x-kubernetes-int-or-string': true,
  description,
});
/** A field of a named type. */
export const ref = (name: SchemaName, description: string): Schema => ({
  description,
  allOf: [{ $ref: `#/components/schemas/${name}` }],
});
/** A list of a named type. */
export const listOf = (name: SchemaName, description: string): Schema => ({
  type: 'array',
  items: { allOf: [{ $ref: `#/components/schemas/${name}` }] },
  description,
});
/** An object whose fields kube-sim does not describe one by one (kept as sent, never refused). */
export const opaque = (description: string): Schema => ({
  type: 'object',
  description,
  'x-kubernetes-preserve-unknown-fields': true,
});
export const object = (
  description: string,
  properties: Record<string, Schema>,
  required?: string[],
): Schema => ({
  type: 'object',
  description,
  properties,
  ...(required !== undefined ? { required } : {}),
});
/**
 * A list that a strategic merge patch merges rather than replaces: by `key` for
 * lists of objects, by value for lists of strings. kubectl reads this from the
 * schema to compute `kubectl apply` patches, as it does from a real server's.
 */
export const mergedBy = (key: string | undefined, schema: Schema): Schema => ({
  ...schema,
  'x-kubernetes-patch-strategy': 'merge',
  ...(key !== undefined ? { 'x-kubernetes-patch-merge-key': key } : {}),
});
