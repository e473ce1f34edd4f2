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

/** The request headers of a cached answer (node lists, a node, pod counts, resources, the fleet list). */
export const cachedAnswerParams: JsonObject[] = [
  {
    name: 'If-None-Match',
    in: 'header',
    required: false,
    description:
      'Entity tags of copies the client holds (weak comparison, `*` for any): a 304 with no body when one is the ' +
      "current state's tag",
    schema: { type: 'string' },
  },
  {
    name: 'Accept-Encoding',
    in: 'header',
    required: false,
    description:
      'br, gzip or identity, the highest weighed (q-values; a tie goes to br, then gzip); bodies under 1 KiB are ' +
      'sent in identity; identity refused and nothing else acceptable: 406',
    schema: { type: 'string' },
  },
];

const CACHED_ANSWER_HEADERS: JsonObject = {
  ETag: {
    description:
      'Strong tag of this representation: `"<epoch>.<seq>-<hash>[-gzip|-br]"` (the fleet list: `"fleet-<hash>..."`); changes with every seq, epoch, ' +
      'cluster life, query and coding; the same on every replica',
    schema: { type: 'string' },
  },
  Vary: { description: '`accept-encoding`', schema: { type: 'string' } },
  'Cache-Control': {
    description: '`private, no-cache`: revalidate before each use',
    schema: { type: 'string' },
  },
};

/** The 200 (`ok`, with `ETag`, `Vary`, `Cache-Control` and `Content-Encoding`) and the 304 of a cached answer. */
export function cachedAnswer(ok: JsonObject): Record<string, JsonObject> {
  return {
    200: {
      ...ok,
      headers: {
        ...CACHED_ANSWER_HEADERS,
        'Content-Encoding': { description: '`br` or `gzip` when compressed', schema: { type: 'string' } },
      },
    },
    304: {
      description: "`If-None-Match` named the current state's tag: the client's copy is current (no body)",
      headers: CACHED_ANSWER_HEADERS,
    },
  };
}
