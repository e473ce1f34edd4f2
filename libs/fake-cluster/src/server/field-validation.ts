import type { ServerResponse } from 'node:http';
import { statusErrors } from '../api/api-status.js';
import type { JsonValue } from '../api/kube-object.js';
import { kindSchema } from '../api/openapi/openapi-v3.js';
import type { Schema } from '../api/openapi/schema-builders.js';
import type { ResourceDef } from '../resource-registry.js';

function resolve(schema: Schema, schemas: Record<string, Schema>): Schema {
  const ref = schema.allOf?.[0]?.$ref;
  if (ref === undefined) return schema;
  return schemas[ref.slice('#/components/schemas/'.length)] ?? {};
}

function walk(
  value: JsonValue,
  schema: Schema,
  schemas: Record<string, Schema>,
  path: string,
  out: string[],
): void {
  const resolved = resolve(schema, schemas);
  if (resolved['x-kubernetes-preserve-unknown-fields'] === true) return;
  if (Array.isArray(value)) {
    if (resolved.items !== undefined) {
      value.forEach((item, i) => walk(item, resolved.items as Schema, schemas, `${path}[${i}]`, out));
    }
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  for (const [key, child] of Object.entries(value)) {
    // Strategic merge patch directives ($patch, $retainKeys, $setElementOrder/...) are not fields.
    if (key.startsWith('$')) continue;
    const field = path === '' ? key : `${path}.${key}`;
    const property = resolved.properties?.[key] ?? resolved.additionalProperties;
    if (property === undefined) {
      if (resolved.properties !== undefined) out.push(field);
      continue;
    }
    walk(child, property, schemas, field, out);
  }
}

/** The fields of `body` that the published schema of `resource` does not know, as `spec.taints[0].colour`. */
export function unknownFields(resource: ResourceDef, body: JsonValue): string[] {
  const published = kindSchema(resource);
  if (published === undefined) return [];
  const out: string[] = [];
  walk(body, published.schema, published.schemas, '', out);
  return out;
}

/**
 * Applies the `fieldValidation` query parameter to a write's body (a create or
 * replace body, or a merge / strategic merge patch) as the API server does: `Strict`
 * refuses unknown fields with 400 `strict decoding error: unknown field "..."`,
 * `Warn` (the default) answers with a `Warning` header per unknown field, `Ignore`
 * says nothing.
 */
export function checkFieldValidation(
  resource: ResourceDef,
  query: URLSearchParams,
  body: JsonValue,
  res: ServerResponse,
): void {
  const mode = query.get('fieldValidation') ?? 'Warn';
  if (mode === 'Ignore') return;
  if (mode !== 'Strict' && mode !== 'Warn') {
    throw statusErrors.badRequest(
      `fieldValidation must be one of "Ignore", "Warn", or "Strict", got ${JSON.stringify(mode)}`,
    );
  }
  const unknown = unknownFields(resource, body);
  if (unknown.length === 0) return;
  const messages = unknown.map((f) => `unknown field ${JSON.stringify(f)}`);
  if (mode === 'Strict') throw statusErrors.badRequest(`strict decoding error: ${messages.join(', ')}`);
  res.setHeader(
    'Warning',
    messages.map((m) => `299 - ${JSON.stringify(m)}`),
  );
}
