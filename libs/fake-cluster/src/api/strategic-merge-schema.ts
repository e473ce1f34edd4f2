/**
 * The patch strategies of the built-in types kube-sim serves, transcribed from the
 * `patchStrategy`/`patchMergeKey` struct tags of k8s.io/api core/v1 and
 * apimachinery ObjectMeta. Paths are dotted field paths with `[]` for a list element
 * (`spec.containers[].env`). A list not listed here is atomic: a patch replaces it.
 */

/** The kinds strategic merge patch knows the schema of; any other kind only has ObjectMeta's strategies. */
export type StrategicKind = 'Node' | 'Pod' | 'Namespace' | (string & {});

/** How a list merges: by a key field, as a set of primitives, or (undefined) atomically. */
export type ListStrategy = { mergeKey: string } | 'primitive';

const METADATA: Record<string, ListStrategy> = {
  'metadata.ownerReferences': { mergeKey: 'uid' },
  'metadata.finalizers': 'primitive',
};

/** Container-level lists, shared by containers, initContainers and ephemeralContainers. */
const CONTAINER: Record<string, ListStrategy> = {
  env: { mergeKey: 'name' },
  ports: { mergeKey: 'containerPort' },
  volumeMounts: { mergeKey: 'mountPath' },
  volumeDevices: { mergeKey: 'devicePath' },
};

function podStrategies(): Record<string, ListStrategy> {
  const out: Record<string, ListStrategy> = {
    ...METADATA,
    'spec.volumes': { mergeKey: 'name' },
    'spec.imagePullSecrets': { mergeKey: 'name' },
    'spec.hostAliases': { mergeKey: 'ip' },
    'status.conditions': { mergeKey: 'type' },
    'status.podIPs': { mergeKey: 'ip' },
  };
  for (const list of ['containers', 'initContainers', 'ephemeralContainers']) {
    out[`spec.${list}`] = { mergeKey: 'name' };
    for (const [field, strategy] of Object.entries(CONTAINER)) out[`spec.${list}[].${field}`] = strategy;
  }
  return out;
}

const STRATEGIES: Record<string, Record<string, ListStrategy>> = {
  Node: {
    ...METADATA,
    'spec.podCIDRs': 'primitive',
    'status.conditions': { mergeKey: 'type' },
    'status.addresses': { mergeKey: 'type' },
  },
  Pod: podStrategies(),
  Namespace: {
    ...METADATA,
    'status.conditions': { mergeKey: 'type' },
  },
};

/** The strategy of the list at `path` in `kind`, or undefined when the list is atomic. */
export function strategicListStrategy(kind: StrategicKind, path: string): ListStrategy | undefined {
  return (STRATEGIES[kind] ?? METADATA)[path];
}
