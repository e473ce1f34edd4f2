import { podResourceTotals, type PodResourceTotals } from '@knm/contracts';

/**
 * What the watcher keeps of a Pod while handling one event: its uid, the node it is
 * bound to (`spec.nodeName`), its phase and, when it counts on its node, its
 * effective requests and limits. Nothing else of the Pod survives the parse of its
 * page or watch line.
 */
export interface PodRecord {
  uid: string;
  /** `spec.nodeName`; undefined while the pod is not scheduled. */
  nodeName: string | undefined;
  /** `status.phase` (`Pending`, `Running`, `Succeeded`, `Failed`, `Unknown`), when set. */
  phase: string | undefined;
  /**
   * Its effective requests and limits in base units (`podResourceTotals`); absent
   * means none. Computed only for a pod that counts ({@link podCounts}): the others
   * take nothing of a node.
   */
  resources?: PodResourceTotals;
}

interface RawPod {
  metadata?: { uid?: unknown } | null;
  spec?: { nodeName?: unknown } | null;
  status?: { phase?: unknown } | null;
}

/** Projects a raw Pod (JSON from the API) into a {@link PodRecord}. Total: odd input gives empty fields. */
export function projectPod(raw: unknown): PodRecord {
  const pod = (raw ?? {}) as RawPod;
  const uid = pod.metadata?.uid;
  const nodeName = pod.spec?.nodeName;
  const phase = pod.status?.phase;
  const record: PodRecord = {
    uid: typeof uid === 'string' ? uid : '',
    nodeName: typeof nodeName === 'string' && nodeName !== '' ? nodeName : undefined,
    phase: typeof phase === 'string' && phase !== '' ? phase : undefined,
  };
  if (podCounts(record)) record.resources = podResourceTotals(raw);
  return record;
}

/**
 * Whether a pod counts on its node: bound (`spec.nodeName` set) and not terminated
 * (`Succeeded` / `Failed`). The one rule every pod count (and allocation) in knm follows.
 */
export function podCounts(pod: PodRecord): boolean {
  return pod.nodeName !== undefined && pod.phase !== 'Succeeded' && pod.phase !== 'Failed';
}
