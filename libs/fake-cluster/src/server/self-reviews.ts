import type { ServerResponse } from 'node:http';
import { statusErrors } from '../api/api-status.js';
import type { JsonObject, JsonValue } from '../api/kube-object.js';
import { parseJsonBody, sendJson } from './http-io.js';

/**
 * Who every holder of kube-sim's token is: one cluster administrator, as a
 * kubeconfig with a `system:masters` credential is on a real cluster.
 */
export const SIM_USER = {
  username: 'kube-sim-admin',
  groups: ['system:masters', 'system:authenticated'],
} as const;

/** The review groups and versions kube-sim answers (POST only, nothing stored). */
const REVIEWS: Record<string, { kind: string; status: (spec: JsonObject) => JsonObject }> = {
  'authorization.k8s.io/v1/selfsubjectaccessreviews': {
    kind: 'SelfSubjectAccessReview',
    // system:masters may do anything: the RBAC authorizer's answer carries no reason.
    status: () => ({ allowed: true }),
  },
  'authorization.k8s.io/v1/selfsubjectrulesreviews': {
    kind: 'SelfSubjectRulesReview',
    status: () => ({
      resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
      nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
      incomplete: false,
    }),
  },
  'authentication.k8s.io/v1/selfsubjectreviews': {
    kind: 'SelfSubjectReview',
    status: () => ({ userInfo: { username: SIM_USER.username, groups: [...SIM_USER.groups] } }),
  },
  'authentication.k8s.io/v1beta1/selfsubjectreviews': {
    kind: 'SelfSubjectReview',
    status: () => ({ userInfo: { username: SIM_USER.username, groups: [...SIM_USER.groups] } }),
  },
};

/** The kind of the self review served at `group/version/plural`, if it is one {@link handleSelfReview} answers. */
export function selfReviewKind(group: string, version: string, plural: string): string | undefined {
  return REVIEWS[`${group}/${version}/${plural}`]?.kind;
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * POST of a SelfSubjectAccessReview, SelfSubjectRulesReview or SelfSubjectReview:
 * 201 with the request echoed and its status filled in for {@link SIM_USER}, as the
 * API server answers these create-only resources; other verbs are 405.
 */
export function handleSelfReview(
  group: string,
  version: string,
  plural: string,
  method: string,
  body: string,
  res: ServerResponse,
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
    status: review.status(spec),
  });
}
