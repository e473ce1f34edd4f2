import { z } from 'zod';

/** A JSON object of the OpenAPI document. */
export type JsonObject = Record<string, unknown>;

/** The JSON Schema of a zod schema, as a component (without `$schema`); `io` picks the input or output shape. */
export function schema(s: z.ZodType, io: 'input' | 'output' = 'output'): JsonObject {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as JsonObject;
  return rest;
}

/** A reference to a component schema. */
export function ref(name: string): JsonObject {
  return { $ref: `#/components/schemas/${name}` };
}

/** A JSON response whose body is the component schema `name`. */
export function json(name: string, description: string): JsonObject {
  return { description, content: { 'application/json': { schema: ref(name) } } };
}

/**
 * Error responses (body `ErrorBody`) for `codes`, each described by the feature's own
 * `texts` (what that status means on its endpoints).
 */
export function errors(texts: Readonly<Record<number, string>>, ...codes: number[]): JsonObject {
  return Object.fromEntries(codes.map((c) => [String(c), json('ErrorBody', texts[c] ?? 'error')]));
}

/** The `:cluster` path parameter. */
export const clusterParam: JsonObject = {
  name: 'cluster',
  in: 'path',
  required: true,
  schema: { type: 'string' },
};

/** An optional query parameter. */
export function queryParam(
  name: string,
  description: string,
  s: JsonObject = { type: 'string' },
): JsonObject {
  return { name, in: 'query', required: false, description, schema: s };
}
