import { KubeConfig } from '@kubernetes/client-node';
import type { ConnectionCheck, ConnectionFailureKind, ConnectionTestResult } from '@knm/contracts';
import { ApiProbe, type ProbeAnswer } from './api-probe.js';
import { KubeconfigRejectedError } from './kubeconfig-rejected-error.js';
import { classifyTransportError } from './transport-failure.js';
import { acceptKubeconfig, type AcceptedKubeconfig } from './uploaded-kubeconfig.js';

/** A permission the watcher needs, asked as a SelfSubjectAccessReview. */
interface NeededPermission {
  check: string;
  resource: string;
  subresource?: string;
  verb: string;
  why: string;
}

/**
 * What a cluster's watcher does with its credentials: list and watch nodes and pods
 * (the reflectors), patch nodes (labels, taints, cordon) and evict pods (drain).
 */
export const NEEDED_PERMISSIONS: readonly NeededPermission[] = [
  { check: 'nodes/list', resource: 'nodes', verb: 'list', why: 'to list the nodes' },
  { check: 'nodes/watch', resource: 'nodes', verb: 'watch', why: 'to follow node changes' },
  { check: 'nodes/patch', resource: 'nodes', verb: 'patch', why: 'to label, taint and cordon nodes' },
  { check: 'pods/list', resource: 'pods', verb: 'list', why: 'to count the pods of each node' },
  { check: 'pods/watch', resource: 'pods', verb: 'watch', why: 'to follow pod changes' },
  {
    check: 'pods/eviction/create',
    resource: 'pods',
    subresource: 'eviction',
    verb: 'create',
    why: 'to drain nodes',
  },
];

/** Options of {@link testClusterConnection}. */
export interface ConnectionTestOptions {
  context?: string;
  execAllowlist: ReadonlySet<string>;
  /** Time each request may take. Default 5,000 ms. */
  requestTimeoutMs?: number;
}

/** A tested kubeconfig: the result, and the accepted kubeconfig when it could be read. */
export interface ConnectionTestOutcome {
  result: ConnectionTestResult;
  accepted?: AcceptedKubeconfig;
}

class CheckFailed extends Error {
  constructor(
    readonly kind: ConnectionFailureKind,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Tests a kubeconfig as a watcher would use it: readable and allowed
 * ({@link acceptKubeconfig}), the API server reachable over TLS (`reach`: GET
 * /version), the credentials accepted (`authenticate`: GET /api), one node listed
 * (`list-nodes`), then every permission of {@link NEEDED_PERMISSIONS} asked with a
 * SelfSubjectAccessReview (all of them, so the answer names every one missing). Stops
 * at the first failure of the first three. Never throws for a bad kubeconfig or
 * cluster: the result says what failed, without any credential.
 */
export async function testClusterConnection(
  kubeconfigText: string,
  options: ConnectionTestOptions,
): Promise<ConnectionTestOutcome> {
  const checks: ConnectionCheck[] = [];
  let accepted: AcceptedKubeconfig;
  try {
    accepted = acceptKubeconfig(kubeconfigText, {
      execAllowlist: options.execAllowlist,
      ...(options.context !== undefined ? { context: options.context } : {}),
    });
  } catch (err) {
    if (!(err instanceof KubeconfigRejectedError)) throw err;
    checks.push({ name: 'kubeconfig', ok: false, detail: err.message });
    return {
      result: { ok: false, checks, failure: { kind: 'invalid', check: 'kubeconfig', message: err.message } },
    };
  }
  checks.push({
    name: 'kubeconfig',
    ok: true,
    detail: `context "${accepted.context}", server ${accepted.server}`,
  });
  const base = { server: accepted.server, context: accepted.context };
  const kc = new KubeConfig();
  kc.loadFromString(accepted.kubeconfig);
  const probe = new ApiProbe(kc, options.requestTimeoutMs ?? 5_000);

  const run = async (name: string, step: () => Promise<string>): Promise<void> => {
    try {
      checks.push({ name, ok: true, detail: await step() });
    } catch (err) {
      const failure = err instanceof CheckFailed ? err : asTransportFailure(err, accepted.server);
      checks.push({ name, ok: false, detail: failure.message });
      throw failure;
    }
  };
  try {
    await run('reach', async () => {
      const answer = await probe.request('GET', '/version');
      const version = field(answer.body, 'gitVersion');
      if (answer.status >= 500)
        throw new CheckFailed(
          'unreachable',
          `${accepted.server} answered GET /version with HTTP ${answer.status}`,
        );
      return version ? `Kubernetes ${version}` : `HTTP ${answer.status}`;
    });
    await run('authenticate', async () => {
      const answer = await probe.request('GET', '/api');
      if (answer.status === 401) {
        throw new CheckFailed(
          'authentication',
          `${accepted.server} refused the credentials of context "${accepted.context}" (401 Unauthorized): the token, client certificate or password is wrong or expired`,
        );
      }
      if (answer.status >= 400 && answer.status !== 403) throw unexpected('GET /api', answer);
      return 'the API server accepted the credentials';
    });
    await run('list-nodes', async () => {
      const answer = await probe.request('GET', '/api/v1/nodes?limit=1');
      if (answer.status === 401)
        throw new CheckFailed(
          'authentication',
          `${accepted.server} refused the credentials (401 Unauthorized)`,
        );
      if (answer.status === 403)
        throw new CheckFailed('permission', `listing nodes is forbidden: ${statusMessage(answer)}`);
      if (answer.status !== 200) throw unexpected('GET /api/v1/nodes', answer);
      const items = field(answer.body, 'items');
      return Array.isArray(items) && items.length > 0
        ? 'listed a node'
        : 'listed nodes (the cluster has none)';
    });
  } catch (err) {
    const failure = err as CheckFailed;
    return {
      accepted,
      result: {
        ok: false,
        ...base,
        checks,
        failure: { kind: failure.kind, check: checks.at(-1)?.name, message: failure.message },
      },
    };
  }

  const missing: string[] = [];
  for (const permission of NEEDED_PERMISSIONS) {
    try {
      const allowed = await accessReview(probe, permission);
      checks.push({ name: permission.check, ok: allowed.allowed, detail: allowed.detail });
      if (!allowed.allowed) missing.push(permission.check);
    } catch (err) {
      const failure = err instanceof CheckFailed ? err : asTransportFailure(err, accepted.server);
      checks.push({ name: permission.check, ok: false, detail: failure.message });
      return {
        accepted,
        result: {
          ok: false,
          ...base,
          checks,
          failure: { kind: failure.kind, check: permission.check, message: failure.message },
        },
      };
    }
  }
  if (missing.length > 0) {
    const message = `the credentials lack what the watcher needs: ${missing
      .map((check) => {
        const p = NEEDED_PERMISSIONS.find((n) => n.check === check);
        return p
          ? `${p.verb} ${p.subresource ? `${p.resource}/${p.subresource}` : p.resource} (${p.why})`
          : check;
      })
      .join(', ')}`;
    return {
      accepted,
      result: { ok: false, ...base, checks, failure: { kind: 'permission', check: missing[0], message } },
    };
  }
  return { accepted, result: { ok: true, ...base, checks } };
}

async function accessReview(
  probe: ApiProbe,
  permission: NeededPermission,
): Promise<{ allowed: boolean; detail: string }> {
  const answer = await probe.request('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SelfSubjectAccessReview',
    spec: {
      resourceAttributes: {
        group: '',
        resource: permission.resource,
        verb: permission.verb,
        ...(permission.subresource ? { subresource: permission.subresource } : {}),
      },
    },
  });
  if (answer.status === 401)
    throw new CheckFailed('authentication', 'the API server refused the credentials (401 Unauthorized)');
  if (answer.status !== 201 && answer.status !== 200) throw unexpected('SelfSubjectAccessReview', answer);
  const status = field(answer.body, 'status');
  const allowed = field(status, 'allowed') === true;
  const reason = field(status, 'reason');
  const what = `${permission.verb} ${permission.subresource ? `${permission.resource}/${permission.subresource}` : permission.resource}`;
  const why = typeof reason === 'string' && reason ? `: ${reason}` : '';
  return {
    allowed,
    detail: allowed ? `may ${what}${why}` : `may not ${what} (needed ${permission.why})${why}`,
  };
}

function asTransportFailure(err: unknown, server: string): CheckFailed {
  const failure = classifyTransportError(err, server);
  return new CheckFailed(failure.kind, failure.message);
}

function unexpected(what: string, answer: ProbeAnswer): CheckFailed {
  return new CheckFailed('unreachable', `${what} answered HTTP ${answer.status}${statusSuffix(answer)}`);
}

function statusSuffix(answer: ProbeAnswer): string {
  const message = statusMessage(answer);
  return message ? `: ${message}` : '';
}

/** The `message` of a Kubernetes Status body (the API server's own words; no credential). */
function statusMessage(answer: ProbeAnswer): string {
  const message = field(answer.body, 'message');
  return typeof message === 'string' ? message : '';
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}
