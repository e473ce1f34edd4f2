import {
  matchesLabelSelector,
  parseLabelSelector,
  type CreateOperationRequest,
  type DryRunChange,
  type NodeSnapshot,
  type OperationSpec,
} from '@knm/contracts';
import { ControlPlaneNodesError } from './errors/control-plane-nodes-error.js';
import { EmptySelectionError } from './errors/empty-selection-error.js';
import { UnknownNodesError } from './errors/unknown-nodes-error.js';
import { planNodeChange } from './steps/node-change-plan.js';

/** The roles that make a node part of the control plane. */
const CONTROL_PLANE_ROLES: ReadonlySet<string> = new Set(['control-plane', 'master']);

/**
 * The nodes a request targets, checked against knm's view of the cluster: the
 * listed names in request order ({@link UnknownNodesError} naming every unknown
 * one), the nodes the selector matches, by name ({@link EmptySelectionError} when
 * none does), or with `all: true` every node, by name. A drain that reaches
 * control-plane nodes without `params.includeControlPlane` throws
 * {@link ControlPlaneNodesError} naming them.
 */
export function resolveTargets(
  cluster: string,
  request: Pick<CreateOperationRequest, 'nodes' | 'selector' | 'all' | 'action' | 'params'>,
  nodes: ReadonlyMap<string, NodeSnapshot>,
): string[] {
  const targets = selectTargets(cluster, request, nodes);
  const params: object = request.params;
  const allowed = 'includeControlPlane' in params && params.includeControlPlane === true;
  if (request.action === 'drain' && !allowed) {
    const controlPlane = targets.filter((name) =>
      nodes.get(name)?.roles.some((role) => CONTROL_PLANE_ROLES.has(role)),
    );
    if (controlPlane.length > 0) throw new ControlPlaneNodesError(cluster, controlPlane);
  }
  return targets;
}

function selectTargets(
  cluster: string,
  request: Pick<CreateOperationRequest, 'nodes' | 'selector' | 'all'>,
  nodes: ReadonlyMap<string, NodeSnapshot>,
): string[] {
  if (request.nodes !== undefined) {
    const unknown = request.nodes.filter((n) => !nodes.has(n));
    if (unknown.length > 0) throw new UnknownNodesError(cluster, unknown);
    return [...request.nodes];
  }
  if (request.all === true) return [...nodes.keys()].sort();
  const selector = parseLabelSelector(request.selector ?? '');
  const matched = [...nodes.values()]
    .filter((n) => matchesLabelSelector(selector, n.labels))
    .map((n) => n.name)
    .sort();
  if (matched.length === 0) throw new EmptySelectionError(cluster, request.selector ?? '');
  return matched;
}

/**
 * A dry run: what `spec` would do to each target, computed from knm's snapshot
 * (nothing is written anywhere). Drain shows its cordon part and the node's pod
 * count (DaemonSet and mirror pods are told apart only when it runs).
 */
export function planDryRun(
  spec: OperationSpec,
  targets: readonly string[],
  nodes: ReadonlyMap<string, NodeSnapshot>,
  podCounts: Readonly<Record<string, number>>,
  ctx: { user: string; reason?: string; now: string },
): DryRunChange[] {
  return targets.map((name) => {
    const node = nodes.get(name);
    if (!node) return { node: name, changed: false, summary: 'node not found' };
    const plan = planNodeChange(
      spec,
      {
        resourceVersion: node.resourceVersion,
        labels: node.labels,
        annotations: node.annotations,
        taints: node.taints,
        unschedulable: node.unschedulable,
      },
      ctx,
    );
    if (spec.action !== 'drain') {
      return {
        node: name,
        changed: plan.changed,
        summary: plan.summary,
        before: plan.before,
        after: plan.after,
      };
    }
    const pods = podCounts[name] ?? 0;
    return {
      node: name,
      changed: plan.changed || pods > 0,
      summary: `${plan.summary}; evict up to ${pods} pod(s) (DaemonSet and mirror pods stay)`,
      before: { ...plan.before, podCount: pods },
      after: { ...plan.after, podCount: 0 },
    };
  });
}
