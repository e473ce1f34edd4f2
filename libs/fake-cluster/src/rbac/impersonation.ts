import type { IncomingHttpHeaders } from 'node:http';
import { ApiStatusError, statusErrors } from '../api/api-status.js';
import type { RbacModel, RequestAttributes, UserInfo } from './rbac-model.js';

/**
 * The identity a request impersonates (`Impersonate-User`, any number of
 * `Impersonate-Group`), or undefined when it impersonates no one. kube-sim's own
 * credential is `system:masters`, which may impersonate anyone, as on a real cluster.
 */
export function impersonatedUser(headers: IncomingHttpHeaders): UserInfo | undefined {
  const user = headers['impersonate-user'];
  const rawGroups = headers['impersonate-group'];
  const groups = (Array.isArray(rawGroups) ? rawGroups : rawGroups === undefined ? [] : [rawGroups])
    .flatMap((g) => g.split(','))
    .map((g) => g.trim())
    .filter(Boolean);
  if (user === undefined || user === '') {
    if (groups.length > 0) throw statusErrors.badRequest('requested groups without impersonating a user');
    return undefined;
  }
  return { user: Array.isArray(user) ? (user[0] ?? '') : user, groups };
}

/** The RBAC verb of an HTTP request on a resource. */
export function verbOf(method: string, named: boolean, watch: boolean): string {
  switch (method) {
    case 'GET':
      return watch ? 'watch' : named ? 'get' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return named ? 'delete' : 'deletecollection';
    default:
      return method.toLowerCase();
  }
}

/**
 * Throws the API server's 403 unless `who` may do `what`: the same Status and message
 * as Kubernetes' RBAC authorizer (`nodes "n-1" is forbidden: User "ana" cannot patch
 * resource "nodes" in API group "" at the cluster scope`).
 */
export function authorize(model: RbacModel, who: UserInfo, what: RequestAttributes): void {
  if (model.allows(who, what)) return;
  const resource = what.subresource ? `${what.resource}/${what.subresource}` : what.resource;
  const qualified = what.group ? `${what.resource}.${what.group}` : what.resource;
  const subject = what.name !== undefined ? `${qualified} "${what.name}"` : qualified;
  const scope =
    what.namespace !== undefined ? `in the namespace "${what.namespace}"` : 'at the cluster scope';
  throw new ApiStatusError(
    403,
    'Forbidden',
    `${subject} is forbidden: User "${who.user}" cannot ${what.verb} resource "${resource}" in API group "${what.group}" ${scope}`,
    {
      ...(what.name !== undefined ? { name: what.name } : {}),
      ...(what.group ? { group: what.group } : {}),
      kind: what.resource,
    },
  );
}
