/**
 * Raw Kubernetes objects as they travel as JSON (timestamps are RFC 3339 strings,
 * quantities are strings). kube-sim stores and serves exactly these shapes; typed
 * loosely on purpose: the API server keeps fields it does not understand.
 */

/** Any JSON value. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };

/** metav1.OwnerReference */
export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** metav1.ObjectMeta (the fields kube-sim understands; others are kept as they come). */
export interface ObjectMeta {
  name: string;
  generateName?: string;
  /** Absent for cluster-scoped objects (Node, Namespace). */
  namespace?: string;
  uid: string;
  /** Opaque to clients; kube-sim issues decimal strings from one counter per cluster. */
  resourceVersion: string;
  generation?: number;
  creationTimestamp: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  [key: string]: JsonValue | undefined | Record<string, string> | OwnerReference[] | string[];
}

/** A Kubernetes object: apiVersion, kind, metadata, and whatever spec/status it has. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: JsonObject;
  status?: JsonObject;
  [key: string]: JsonValue | ObjectMeta | JsonObject | undefined;
}

/** The kinds kube-sim stores. */
export type StoredKind =
  | 'Node'
  | 'Pod'
  | 'Namespace'
  | 'DaemonSet'
  | 'ReplicaSet'
  | 'Job'
  | 'PodDisruptionBudget'
  | 'Lease'
  | 'Event';
