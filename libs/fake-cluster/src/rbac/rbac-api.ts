import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { statusErrors } from '../api/api-status.js';
import { parseJsonBody, readBodyBytes, sendJson } from '../server/http-io.js';
import { ClusterRoleBindingSchema, ClusterRoleSchema, type RbacModel } from './rbac-model.js';

/** The API group kube-sim's RBAC objects live in. */
export const RBAC_GROUP = 'rbac.authorization.k8s.io';

const KINDS = {
  clusterroles: { kind: 'ClusterRole', schema: ClusterRoleSchema },
  clusterrolebindings: { kind: 'ClusterRoleBinding', schema: ClusterRoleBindingSchema },
} as const;

/**
 * `/apis/rbac.authorization.k8s.io/v1`: its discovery document, and `clusterroles`
 * and `clusterrolebindings`: list, get, create (201; 409 when the name is taken; 422
 * naming the bad field), delete. Objects are kept in memory, outside the store (no
 * watch, no resourceVersions beyond `1`): enough to set a cluster's RBAC up in a test.
 */
export async function handleRbacRequest(
  model: RbacModel,
  method: string,
  version: string,
  rest: readonly string[],
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<void> {
  if (version !== 'v1') throw statusErrors.notFound('', path);
  if (rest.length === 0 && method === 'GET') return sendJson(res, 200, discovery());
  const plural = rest[0] as keyof typeof KINDS;
  const def = KINDS[plural];
  if (def === undefined || rest.length > 2) throw statusErrors.notFound('', path);
  const name = rest[1];
  if (name === undefined && method === 'GET') {
    return sendJson(res, 200, {
      kind: `${def.kind}List`,
      apiVersion: `${RBAC_GROUP}/v1`,
      metadata: { resourceVersion: '1' },
      items: model.list(def.kind),
    });
  }
  if (name === undefined && method === 'POST') {
    const body = parseJsonBody((await readBodyBytes(req)).toString('utf8'));
    const parsed = (def.schema as z.ZodType<z.infer<typeof def.schema>>).safeParse(body);
    if (!parsed.success) {
      const given = (body as { metadata?: { name?: unknown } } | null)?.metadata?.name;
      throw statusErrors.invalid(
        def.kind,
        typeof given === 'string' ? given : '',
        parsed.error.issues.map((i) => ({
          reason: 'FieldValueInvalid',
          field: i.path.join('.'),
          message: i.message,
        })),
        RBAC_GROUP,
      );
    }
    const created = model.create(def.kind, parsed.data);
    if (!created) throw statusErrors.alreadyExists(plural, parsed.data.metadata.name, RBAC_GROUP);
    return sendJson(res, 201, created);
  }
  if (name !== undefined && method === 'GET') {
    const found = model.get(def.kind, name);
    if (!found) throw statusErrors.notFound(plural, name, RBAC_GROUP);
    return sendJson(res, 200, found);
  }
  if (name !== undefined && method === 'DELETE') {
    if (!model.delete(def.kind, name)) throw statusErrors.notFound(plural, name, RBAC_GROUP);
    return sendJson(res, 200, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: { name, group: RBAC_GROUP, kind: plural },
    });
  }
  throw statusErrors.methodNotSupported(plural, method.toLowerCase(), RBAC_GROUP);
}

function discovery(): object {
  const verbs = ['create', 'delete', 'get', 'list'];
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: `${RBAC_GROUP}/v1`,
    resources: [
      { name: 'clusterroles', singularName: 'clusterrole', namespaced: false, kind: 'ClusterRole', verbs },
      {
        name: 'clusterrolebindings',
        singularName: 'clusterrolebinding',
        namespaced: false,
        kind: 'ClusterRoleBinding',
        verbs,
      },
    ],
  };
}
