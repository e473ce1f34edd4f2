import type { JsonValue } from '../api/kube-object.js';
import type {
  SwaggerDocument,
  SwaggerOperation,
  SwaggerParameter,
  SwaggerPathItem,
  SwaggerResponse,
  SwaggerSchema,
} from '../api/openapi/openapi-v2.js';
import { MessageWriter } from './protobuf-wire.js';

/**
 * The OpenAPI v2 document as gnostic's `openapi.v2.Document` protobuf
 * (`application/com.github.proto-openapi.spec.v2.v1.0+protobuf`), the form kubectl
 * 1.27 and 1.28 ask for. Field numbers are those of gnostic-models'
 * openapiv2/OpenAPIv2.proto, fields are written in number order (as Go's marshaller
 * does), and values gnostic keeps as `Any` (vendor extensions, enums, defaults)
 * carry their YAML text, which is what clients read (kube-openapi parses
 * `x-kubernetes-group-version-kind` from it).
 */

const YAML_KEYWORDS = new Set(['true', 'false', 'null', 'yes', 'no', 'on', 'off', 'y', 'n', '~']);

/** A scalar as YAML writes it: plain when it cannot be read as anything but that string, quoted otherwise. */
function yamlScalar(value: string | number | boolean | null): string {
  if (typeof value !== 'string') return String(value);
  const plain = /^[A-Za-z_][A-Za-z0-9_./-]*$/.test(value) && !YAML_KEYWORDS.has(value.toLowerCase());
  return plain ? value : JSON.stringify(value);
}

/** Block-style YAML lines of a JSON value, as gnostic's YAML marshaller lays them out (4-space indent for nested maps). */
function yamlLines(value: JsonValue): string[] {
  if (Array.isArray(value)) {
    if (value.length === 0) return ['[]'];
    return value.flatMap((item) => {
      const [first = '', ...rest] = yamlLines(item);
      return [`- ${first}`, ...rest.map((line) => `  ${line}`)];
    });
  }
  if (value !== null && typeof value === 'object') {
    // Sorted: the API server's extension values are Go maps, marshalled in key order.
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (entries.length === 0) return ['{}'];
    return entries.flatMap(([key, v]) => {
      const lines = yamlLines(v);
      const nested = v !== null && typeof v === 'object' && lines[0] !== '[]' && lines[0] !== '{}';
      return nested
        ? [`${yamlScalar(key)}:`, ...lines.map((line) => `    ${line}`)]
        : [`${yamlScalar(key)}: ${lines[0] ?? ''}`];
    });
  }
  return [yamlScalar(value)];
}

/** gnostic's Any: field 2 holds the value as YAML text. */
function any(value: JsonValue): MessageWriter {
  return new MessageWriter().string(2, `${yamlLines(value).join('\n')}\n`);
}

/** The `x-` keys of an object as NamedAny messages, in key order (Go marshals the extension map sorted). */
function vendorExtensions(w: MessageWriter, number: number, object: object): MessageWriter {
  const entries = Object.entries(object)
    .filter(([key]) => key.startsWith('x-'))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [name, value] of entries) {
    w.message(number, new MessageWriter().string(1, name).message(2, any(value as JsonValue)));
  }
  return w;
}

/** A map as repeated Named* messages: name in field 1, value in field 2. */
function named<T>(map: Record<string, T>, encode: (value: T) => MessageWriter): MessageWriter[] {
  return Object.entries(map).map(([name, value]) =>
    new MessageWriter().string(1, name).message(2, encode(value)),
  );
}

function repeated(w: MessageWriter, number: number, messages: MessageWriter[]): MessageWriter {
  for (const m of messages) w.message(number, m);
  return w;
}

function schema(s: SwaggerSchema): MessageWriter {
  const w = new MessageWriter().string(1, s.$ref).string(2, s.format).string(4, s.description);
  if (s.default !== undefined) w.message(5, any(s.default));
  w.strings(19, s.required);
  repeated(w, 20, (s.enum ?? []).map(any));
  if (s.additionalProperties !== undefined) {
    w.message(21, new MessageWriter().message(1, schema(s.additionalProperties)));
  }
  if (s.type !== undefined) w.message(22, new MessageWriter().strings(1, [s.type]));
  if (s.items !== undefined) w.message(23, new MessageWriter().message(1, schema(s.items)));
  if (s.properties !== undefined) {
    w.message(25, repeated(new MessageWriter(), 1, named(s.properties, schema)));
  }
  return vendorExtensions(w, 31, s);
}

/** ParametersItem > Parameter > BodyParameter, or NonBodyParameter > Query/PathParameterSubSchema. */
function parameter(p: SwaggerParameter): MessageWriter {
  let inner: MessageWriter;
  if (p.in === 'body') {
    const bodyParameter = new MessageWriter()
      .string(1, p.description)
      .string(2, p.name)
      .string(3, p.in)
      .bool(4, p.required)
      .message(5, p.schema === undefined ? undefined : schema(p.schema));
    inner = new MessageWriter().message(1, bodyParameter);
  } else {
    const sub = new MessageWriter()
      .bool(1, p.required)
      .string(2, p.in)
      .string(3, p.description)
      .string(4, p.name);
    // QueryParameterSubSchema has allow_empty_value at 5, so its type and uniqueItems sit one further than the path one's.
    if (p.in === 'query') sub.string(6, p.type).bool(20, p.uniqueItems);
    else sub.string(5, p.type).bool(19, p.uniqueItems);
    const nonBody = new MessageWriter().message(p.in === 'query' ? 3 : 4, sub);
    inner = new MessageWriter().message(2, nonBody);
  }
  return new MessageWriter().message(1, inner);
}

function response(r: SwaggerResponse): MessageWriter {
  const out = new MessageWriter()
    .string(1, r.description)
    .message(2, r.schema === undefined ? undefined : new MessageWriter().message(1, schema(r.schema)));
  return new MessageWriter().message(1, out);
}

function operation(op: SwaggerOperation | undefined): MessageWriter | undefined {
  if (op === undefined) return undefined;
  const w = new MessageWriter().string(3, op.description).string(5, op.operationId).strings(7, op.consumes);
  repeated(w, 8, (op.parameters ?? []).map(parameter));
  w.message(9, repeated(new MessageWriter(), 1, named(op.responses, response)));
  return vendorExtensions(w, 13, op);
}

function pathItem(item: SwaggerPathItem): MessageWriter {
  const w = new MessageWriter()
    .message(2, operation(item.get))
    .message(3, operation(item.put))
    .message(4, operation(item.post))
    .message(5, operation(item.delete))
    .message(8, operation(item.patch));
  return repeated(w, 9, (item.parameters ?? []).map(parameter));
}

/** The document encoded as gnostic `openapi.v2.Document`. */
export function encodeOpenApiV2(doc: SwaggerDocument): Buffer {
  const info = new MessageWriter().string(1, doc.info.title).string(2, doc.info.version);
  const paths = repeated(new MessageWriter(), 2, named(doc.paths, pathItem));
  const definitions = repeated(new MessageWriter(), 1, named(doc.definitions, schema));
  return new MessageWriter()
    .string(1, doc.swagger)
    .message(2, info)
    .message(8, paths)
    .message(9, definitions)
    .finish();
}
