import { statusErrors } from '../api/api-status.js';
import type { JsonObject } from '../api/kube-object.js';
import { fields, PROTOBUF_MAGIC, text, type Field } from './protobuf-wire.js';

function sub(message: Field[], number: number): Field[] {
  return fields(message.find((f) => f.number === number)?.bytes ?? Buffer.alloc(0));
}

/** The string fields of a message by number, as named JSON fields (absent ones left out). */
function strings(message: Field[], names: Record<number, string>): JsonObject {
  const out: JsonObject = {};
  for (const [number, name] of Object.entries(names)) {
    const value = text(message.find((f) => f.number === Number(number)));
    if (value !== undefined && value !== '') out[name] = value;
  }
  return out;
}

const RESOURCE_ATTRIBUTES = {
  1: 'namespace',
  2: 'verb',
  3: 'group',
  4: 'version',
  5: 'resource',
  6: 'subresource',
  7: 'name',
} as const;

/**
 * Decodes the protobuf body of a self review (kubectl 1.32+ sends
 * SelfSubjectAccessReview, SelfSubjectRulesReview and SelfSubjectReview as protobuf)
 * into its JSON shape: the runtime.Unknown envelope, then the spec's fields (resource
 * and non-resource attributes, or the rules review's namespace). Anything else is 415.
 */
export function decodeProtobufSelfReview(body: Buffer, contentType: string, kind: string): JsonObject {
  const unsupported = () =>
    statusErrors.unsupportedMediaType(contentType, ['application/json', 'application/yaml']);
  if (body.length < 4 || !body.subarray(0, 4).equals(PROTOBUF_MAGIC)) throw unsupported();
  try {
    const unknown = fields(body.subarray(4));
    if (text(sub(unknown, 1).find((f) => f.number === 2)) !== kind) throw unsupported();
    const review = sub(unknown, 2);
    const spec = sub(review, 2);
    if (kind === 'SelfSubjectRulesReview') return { spec: strings(spec, { 1: 'namespace' }) };
    if (kind !== 'SelfSubjectAccessReview') return {};
    const out: JsonObject = {};
    if (spec.some((f) => f.number === 1))
      out['resourceAttributes'] = strings(sub(spec, 1), RESOURCE_ATTRIBUTES);
    if (spec.some((f) => f.number === 2))
      out['nonResourceAttributes'] = strings(sub(spec, 2), { 1: 'path', 2: 'verb' });
    return { spec: out };
  } catch (err) {
    if (err instanceof RangeError) {
      throw statusErrors.badRequest(`the body of the request could not be decoded: ${err.message}`);
    }
    throw err;
  }
}
