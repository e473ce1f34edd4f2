import type { ClusterName, ClusterStatus, Envelope, NodeAspect, ResyncReason } from '@knm/contracts';

/**
 * Envelope JSON is built here, in TypeScript, without its `seq`: the Lua scripts
 * allocate the seq and splice it in front (`'{"seq":' .. seq .. ',' .. body`). Lua
 * never re-encodes an envelope (cjson would turn `[]` into `{}` and escape `/`).
 *
 * A "body" is the envelope's JSON without `seq` and without its opening brace, so
 * `spliceSeq(body, seq)` is the complete JSON. Node envelopes are split around their
 * snapshot (`head` + snapshot JSON + `tail`) so the snapshot crosses the wire once:
 * the script stores it in the hash and concatenates it into the envelope.
 */
export type EnvelopeWithoutSeq = Envelope extends infer E
  ? E extends Envelope
    ? Omit<E, 'seq'>
    : never
  : never;

/** The JSON of an envelope given its body (what the Lua scripts do, for tests and tooling). */
export function spliceSeq(body: string, seq: number): string {
  return `{"seq":${seq},${body}`;
}

/** The body (JSON without `seq` and without the opening brace) of any envelope. */
export function envelopeBody(envelope: EnvelopeWithoutSeq): string {
  return JSON.stringify(envelope).slice(1);
}

/** The two halves of a body around a value the script inserts (a snapshot, computed counts). */
export interface BodyParts {
  readonly head: string;
  readonly tail: string;
}

/** `node_add` / `node_update` body parts: `head + snapshotJson + tail` is the body. */
export function nodeEnvelopeParts(input: {
  type: 'node_add' | 'node_update';
  cluster: ClusterName;
  node: string;
  changes?: readonly NodeAspect[];
  timestamp: string;
}): BodyParts {
  const fields: Record<string, unknown> = { type: input.type, cluster: input.cluster, node: input.node };
  if (input.type === 'node_update') fields['changes'] = input.changes ?? [];
  return {
    head: `${JSON.stringify(fields).slice(1, -1)},"data":`,
    tail: `,"timestamp":${JSON.stringify(input.timestamp)}}`,
  };
}

/** `node_delete` body. */
export function nodeDeleteBody(cluster: ClusterName, node: string, uid: string, timestamp: string): string {
  return envelopeBody({ type: 'node_delete', cluster, node, data: { uid }, timestamp });
}

/** `resync` body. */
export function resyncBody(
  cluster: ClusterName,
  reason: ResyncReason,
  epoch: number,
  timestamp: string,
): string {
  return envelopeBody({ type: 'resync', cluster, data: { reason, epoch }, timestamp });
}

/**
 * `pod_counts` body parts: the script appends `podCountEntry(name, count)` items
 * joined by `,` between `head` and `tail`.
 */
export function podCountsParts(cluster: ClusterName, timestamp: string): BodyParts {
  return {
    head: `"type":"pod_counts","cluster":${JSON.stringify(cluster)},"timestamp":${JSON.stringify(timestamp)},"data":{"counts":{`,
    tail: '}}}',
  };
}

/**
 * `allocation` body parts: the script appends `<JSON-quoted node>:<NodeAllocation JSON>`
 * items joined by `,` between `head` and `tail` (only the nodes whose allocation changed).
 */
export function allocationParts(cluster: ClusterName, timestamp: string): BodyParts {
  return {
    head: `"type":"allocation","cluster":${JSON.stringify(cluster)},"timestamp":${JSON.stringify(timestamp)},"data":{"nodes":{`,
    tail: '}}}',
  };
}

/** `usage` body parts: `head + UsageSnapshot JSON + tail` is the body (the snapshot crosses the wire once). */
export function usageParts(cluster: ClusterName, timestamp: string): BodyParts {
  return {
    head: `"type":"usage","cluster":${JSON.stringify(cluster)},"timestamp":${JSON.stringify(timestamp)},"data":`,
    tail: '}',
  };
}

/** The JSON-quoted node name the pod-counts and allocation scripts put before `:<value>`. */
export function podCountKey(node: string): string {
  return JSON.stringify(node);
}

/**
 * `cluster_status` body parts: the script appends `,"nodeCount":N`, `,"podCount":N`
 * and `,"syncedAt":"..."` from meta (numbers and RFC 3339 strings, safe to concatenate)
 * between `head` and `tail`.
 */
export function clusterStatusParts(input: {
  cluster: ClusterName;
  status: ClusterStatus;
  error?: string;
  leader: string;
  timestamp: string;
}): BodyParts {
  const data: Record<string, string> = { status: input.status };
  if (input.error) data['error'] = input.error;
  data['leader'] = input.leader;
  return {
    head: `"type":"cluster_status","cluster":${JSON.stringify(input.cluster)},"timestamp":${JSON.stringify(input.timestamp)},"data":${JSON.stringify(data).slice(0, -1)}`,
    tail: '}}',
  };
}
