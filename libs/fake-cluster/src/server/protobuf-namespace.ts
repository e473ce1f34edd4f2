import { statusErrors } from '../api/api-status.js';
import type { KubeObject } from '../api/kube-object.js';
import { fields, PROTOBUF_MAGIC, text, type Field } from './protobuf-wire.js';

/**
 * Just enough of the Kubernetes protobuf encoding to read a Namespace that typed
 * clients send as `application/vnd.kubernetes.protobuf` (`kubectl create namespace`
 * does): the `k8s\0` magic, the runtime.Unknown envelope (typeMeta, raw), and the
 * Namespace's ObjectMeta name, generateName, labels and annotations. kube-sim has
 * no general protobuf codec; every other protobuf body is answered 415.
 */

function stringMap(entries: Field[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (const entry of entries) {
    const kv = fields(entry.bytes ?? Buffer.alloc(0));
    const key = text(kv.find((f) => f.number === 1));
    if (key !== undefined) map[key] = text(kv.find((f) => f.number === 2)) ?? '';
  }
  return map;
}

/**
 * Decodes a protobuf-encoded Namespace body into its JSON shape (metadata only);
 * throws a 415 Status for anything that is not a v1 Namespace.
 */
export function decodeProtobufNamespace(body: Buffer, contentType: string): KubeObject {
  const unsupported = () =>
    statusErrors.unsupportedMediaType(contentType, ['application/json', 'application/yaml']);
  if (body.length < 4 || !body.subarray(0, 4).equals(PROTOBUF_MAGIC)) throw unsupported();
  try {
    const unknown = fields(body.subarray(4));
    const typeMeta = fields(unknown.find((f) => f.number === 1)?.bytes ?? Buffer.alloc(0));
    const apiVersion = text(typeMeta.find((f) => f.number === 1));
    const kind = text(typeMeta.find((f) => f.number === 2));
    if (apiVersion !== 'v1' || kind !== 'Namespace') throw unsupported();
    const namespace = fields(unknown.find((f) => f.number === 2)?.bytes ?? Buffer.alloc(0));
    const meta = fields(namespace.find((f) => f.number === 1)?.bytes ?? Buffer.alloc(0));
    const labels = stringMap(meta.filter((f) => f.number === 11));
    const annotations = stringMap(meta.filter((f) => f.number === 12));
    const name = text(meta.find((f) => f.number === 1)) ?? '';
    const generateName = text(meta.find((f) => f.number === 2));
    return {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name,
        ...(generateName ? { generateName } : {}),
        uid: '',
        resourceVersion: '',
        creationTimestamp: '',
        ...(Object.keys(labels).length > 0 ? { labels } : {}),
        ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
      },
    };
  } catch (err) {
    if (err instanceof RangeError)
      throw statusErrors.badRequest(`the body of the request could not be decoded: ${err.message}`);
    throw err;
  }
}
