import type { ServerResponse } from 'node:http';
import { statusErrors } from '../api/api-status.js';
import type { JsonObject, JsonValue } from '../api/kube-object.js';
import type { RbacModel, UserInfo } from '../rbac/rbac-model.js';
import { parseJsonBody, sendJson } from './http-io.js';

/**
 * Who every holder of kube-sim's token is: one cluster administrator, as a
 * kubeconfig with a `system:masters` credential is on a real cluster.
 */
export const SIM_USER = {
  username: 'kube-sim-admin',
  groups: ['system:masters', 'system:authenticated'],
} as const;

/** Who asks a review, and the RBAC that decides for an impersonated requester. */
export interface ReviewRequester {
  /** The impersonated user (Impersonate-User/-Group), or undefined for kube-sim's own credential. */
  impersonated: UserInfo | undefined;
  rbac: RbacModel;
}

/** The review groups and versions kube-sim answers (POST only, nothing stored). */
const REVIEWS: Record<
  string,
  { kind: string; status: (spec: JsonObject, requester: ReviewRequester) => JsonObject }
> = {
  'authorization.k8s.io/v1/selfsubjectaccessreviews': {
    kind: 'SelfSubjectAccessReview',
    status: accessReviewStatus,
  },
  'authorization.k8s.io/v1/selfsubjectrulesreviews': {
    kind: 'SelfSubjectRulesReview',
    status: (_spec, requester) => rulesReviewStatus(requester),
  },
  'authentication.k8s.io/v1/selfsubjectreviews': {
    kind: 'SelfSubjectReview',
    status: (_spec, requester) => ({ userInfo: userInfoOf(requester) }),
  },
  'authentication.k8s.io/v1beta1/selfsubjectreviews': {
    kind: 'SelfSubjectReview',
    status: (_spec, requester) => ({ userInfo: userInfoOf(requester) }),
  },
};

/**
 * A SelfSubjectRulesReview's status: everything for kube-sim's own credential
 * (system:masters), else the rules of the ClusterRoles bound to the impersonated
 * requester, plus the non-resource GETs every authenticated user has on a real cluster.
 */
function rulesReviewStatus(requester: ReviewRequester): JsonObject {
  const who = requester.impersonated;
  if (who === undefined || who.groups.includes('system:masters')) {
    return {
      resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
      nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
      incomplete: false,
    };
  }
  return {
    resourceRules: requester.rbac.rulesOf(who).map((rule) => ({
      verbs: [...rule.verbs],
      apiGroups: [...rule.apiGroups],
      resources: [...rule.resources],
      ...(rule.resourceNames?.length ? { resourceNames: [...rule.resourceNames] } : {}),
    })),
    nonResourceRules: [
      { verbs: ['get'], nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/version', '/healthz'] },
    ],
    incomplete: false,
  };
}

function userInfoOf(requester: ReviewRequester): JsonObject {
  const who = requester.impersonated;
  return who === undefined
    ? { username: SIM_USER.username, groups: [...SIM_USER.groups] }
    : { username: who.user, groups: [...who.groups, 'system:authenticated'] };
}

/**
 * A SelfSubjectAccessReview's status as the RBAC authorizer answers it: kube-sim's own
 * credential is system:masters (allowed, no reason); an impersonated requester is
 * decided by the cluster's ClusterRoles and bindings, with the allowing binding as the
 * reason, or denied with an empty reason (RBAC never explains a denial).
 */
function accessReviewStatus(spec: JsonObject, requester: ReviewRequester): JsonObject {
  const who = requester.impersonated;
  if (who === undefined) return { allowed: true };
  const attributes = spec['resourceAttributes'];
  if (!isObject(attributes)) {
    // Non-resource URLs (/healthz, /version): every authenticated user may GET them on a real cluster.
    const nonResource = spec['nonResourceAttributes'];
    return { allowed: isObject(nonResource) && nonResource['verb'] === 'get' };
  }
  const text = (key: string): string | undefined => {
    const value = attributes[key];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  const subresource = text('subresource');
  const namespace = text('namespace');
  const name = text('name');
  const reason = requester.rbac.allowedBy(who, {
    verb: text('verb') ?? '',
    group: text('group') ?? '',
    resource: text('resource') ?? '',
    ...(subresource !== undefined ? { subresource } : {}),
    ...(namespace !== undefined ? { namespace } : {}),
    ...(name !== undefined ? { name } : {}),
  });
  return reason === undefined ? { allowed: false } : { allowed: true, ...(reason ? { reason } : {}) };
}

/** The kind of the self review served at `group/version/plural`, if it is one {@link handleSelfReview} answers. */
export function selfReviewKind(group: string, version: string, plural: string): string | undefined {
  return REVIEWS[`${group}/${version}/${plural}`]?.kind;
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * POST of a SelfSubjectAccessReview, SelfSubjectRulesReview or SelfSubjectReview:
 * 201 with the request echoed and its status filled in for the requester ({@link
 * SIM_USER}, or the user it impersonates), as the API server answers these
 * create-only resources; other verbs are 405.
 */
export function handleSelfReview(
  group: string,
  version: string,
  plural: string,
  method: string,
  body: string,
  res: ServerResponse,
  requester: ReviewRequester,
): void {
  const review = REVIEWS[`${group}/${version}/${plural}`];
  if (review === undefined) throw statusErrors.notFound(plural, '', group);
  if (method !== 'POST') throw statusErrors.methodNotSupported(plural, method.toLowerCase(), group);
  const parsed = body.trim() === '' ? {} : parseJsonBody(body, review.kind);
  if (!isObject(parsed)) throw statusErrors.badRequest(`the ${review.kind} must be a JSON object`);
  const spec = isObject(parsed['spec']) ? parsed['spec'] : {};
  const metadata = isObject(parsed['metadata']) ? { ...parsed['metadata'] } : {};
  delete metadata['creationTimestamp'];
  sendJson(res, 201, {
    kind: review.kind,
    apiVersion: `${group}/${version}`,
    metadata: { ...metadata, creationTimestamp: null },
    ...(review.kind === 'SelfSubjectReview' ? {} : { spec }),
    status: review.status(spec, requester),
  });
}
