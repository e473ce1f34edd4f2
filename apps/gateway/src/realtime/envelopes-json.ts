import type { BatchMessage, Envelope, NodeSnapshot } from '@knm/contracts';

/**
 * The JSON of node snapshots, by object: a snapshot is encoded once for as long as it
 * lives, however many batches carry it. The log and the shared batches hold the
 * snapshots the changes channel delivered (and the whole-state reads build), never
 * modify them, and drop them when a newer state of the node arrives: keyed weakly,
 * an entry goes with its snapshot.
 */
const snapshotJson = new WeakMap<NodeSnapshot, string>();

function nodeSnapshotJson(data: NodeSnapshot): string {
  let json = snapshotJson.get(data);
  if (json === undefined) {
    json = JSON.stringify(data);
    snapshotJson.set(data, json);
  }
  return json;
}

/** One envelope's JSON, what `JSON.stringify(envelope)` means (a node envelope's `data` comes last). */
export function envelopeJson(envelope: Envelope): string {
  if (envelope.type === 'node_add' || envelope.type === 'node_update') {
    const head = JSON.stringify({ ...envelope, data: undefined });
    return `${head.slice(0, -1)},"data":${nodeSnapshotJson(envelope.data)}}`;
  }
  return JSON.stringify(envelope);
}

/**
 * `envelopes` as a JSON array, what `JSON.stringify(envelopes)` means. A folded
 * batch after a burst carries thousands of node snapshots that earlier batches
 * carried too: each is encoded once ({@link snapshotJson}), so building a batch costs
 * about a copy of its text, not a walk of every object in it (in the latency bench,
 * encoding was a third of a busy gateway's time).
 */
export function envelopesJson(envelopes: readonly Envelope[]): string {
  return `[${envelopes.map(envelopeJson).join(',')}]`;
}

/** The JSON length of `batch` whose envelopes encode to `envelopes` (`envelopesJson`): what flow control counts. */
export function batchJsonLength(batch: BatchMessage, envelopes: string): number {
  // The batch without envelopes, and the envelopes' array in place of its `[]`.
  return JSON.stringify({ ...batch, envelopes: [] }).length - 2 + envelopes.length;
}
