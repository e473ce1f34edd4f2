import { z } from 'zod';
import { ClusterNameSchema } from './cluster-name.js';
import { ENVELOPE_TYPES, EnvelopeSchema } from './envelope.js';

/** The Socket.IO namespace that serves live node changes. */
export const REALTIME_NAMESPACE = '/nodes';

/**
 * The realtime protocol's version, stated in `welcome`. 2: server events named by
 * type (`node_update`, `batch`, ...) instead of one `envelope` event, folded batches
 * for resumes and slow sockets, no `slow_consumer` resync. 3: `allocation` and
 * `usage` envelopes (node resources). 4: large batches compressed
 * for a subscription that asks (`subscribe`'s `encoding`, {@link CompressedBatchMessage}).
 * 5: a batch larger than a client's link takes in a few seconds comes in parts
 * (`part`, `more`), each acked with its `part`, for a subscription that asks (`parts`).
 * A client that does not know the gateway's version must stop with a clear error, not guess.
 */
export const PROTOCOL_VERSION = 5;

/**
 * Socket.IO event names of the `/nodes` namespace.
 * - client -> server: `subscribe`, `unsubscribe` (both with an ack callback), `ack`
 *   (no callback: the seq the client has applied, for flow control)
 * - server -> client: `welcome` (once after the handshake), `test_message` (an
 *   admin's end-to-end test, to be acked), then per cluster, in seq
 *   order: one event per envelope, named by its type (`node_add`, `node_update`,
 *   `node_delete`, `pod_counts`, `cluster_status`, `resync`), and `batch`. Socket.IO
 *   keeps the order of events across names on one socket.
 */
export const RealtimeEvents = {
  subscribe: 'subscribe',
  unsubscribe: 'unsubscribe',
  ack: 'ack',
  welcome: 'welcome',
  batch: 'batch',
  test: 'test_message',
} as const;

/** Every server -> client event that carries a cluster's changes: the envelope types and `batch`. */
export const CHANGE_EVENTS = [...ENVELOPE_TYPES, RealtimeEvents.batch] as const;
export type ChangeEventName = (typeof CHANGE_EVENTS)[number];

/** How a client may ask large batches to be compressed (`subscribe`'s `encoding`): raw DEFLATE (RFC 1951). */
export const BATCH_ENCODINGS = ['deflate'] as const;
export type BatchEncoding = (typeof BATCH_ENCODINGS)[number];

/** Highest `maxRate` a subscription may ask for (batches per second). */
export const MAX_SUBSCRIBE_RATE = 50;

/**
 * `subscribe`: start receiving a cluster's changes.
 * - Without `sinceSeq`: every change after the cluster's current seq.
 * - With `sinceSeq` (the seq the client's view is at): the ack, then ONE `batch`
 *   with everything after it, folded (at most one envelope per node), then the live
 *   changes, with no gap and no duplicate. The batch may take a while to come when
 *   many sockets are owed one (the gateway writes a bounded number at a time): the
 *   ack says the subscription holds, so the client must not subscribe again because
 *   the batch is late. When the gateway cannot continue from that seq (Redis lost
 *   its data), a `resync` (`replay_unavailable`) tells the client to reload.
 * - With `maxRate` (batches per second, at most {@link MAX_SUBSCRIBE_RATE}): the
 *   socket gets at most that many `batch` events a second, each folding the
 *   changes since the previous one, instead of one event per change.
 * - With `encoding` (one of {@link BATCH_ENCODINGS}): a batch whose JSON is large
 *   comes compressed ({@link CompressedBatchMessage}), and so does a large live
 *   message (a run of live envelopes, or one large envelope such as a usage poll),
 *   as a compressed `live` batch; small batches and live envelopes stay plain.
 * - With `parts: true`: the client applies a batch in parts and acks every batch and
 *   part at once (see {@link BatchMessageSchema}); a batch larger than its link takes
 *   in about four seconds comes in parts. Flow control holds from the subscription on
 *   (the resume batch too), where otherwise it starts with the client's first ack.
 */
export const SubscribeMessageSchema = z.strictObject({
  cluster: ClusterNameSchema,
  sinceSeq: z.number().int().nonnegative().optional(),
  maxRate: z.number().positive().max(MAX_SUBSCRIBE_RATE).optional(),
  encoding: z.enum(BATCH_ENCODINGS).optional(),
  parts: z.literal(true).optional(),
});
export type SubscribeMessage = z.infer<typeof SubscribeMessageSchema>;

/**
 * The fields every form of `batch` has: which cluster, the seqs it goes from and to,
 * and, for a batch in parts, which part this is and whether more follow.
 */
function batchHeader() {
  return {
    type: z.literal('batch'),
    cluster: ClusterNameSchema,
    fromSeq: z.number().int().nonnegative(),
    seq: z.number().int().positive(),
    part: z.number().int().nonnegative().optional(),
    more: z.literal(true).optional(),
  };
}

/**
 * `batch`: a cluster's changes after `fromSeq` up to `seq`, folded: at most one
 * envelope per node (its latest state, or its delete), one `pod_counts` with the
 * latest counts of the nodes whose count changed, and the latest `cluster_status`.
 * A client at any seq in `[fromSeq, seq]` applies `envelopes` in order (ignoring
 * their own seqs) and is then at `seq`; below `fromSeq` it has a gap. `fromSeq` 0
 * means the batch is the cluster's whole state: clear the view first. Sent for a
 * resume, to a socket that fell behind (merged delivery) and under `maxRate`.
 *
 * `live: true` marks a run of live envelopes sent together because the cluster
 * changed faster than the gateway's live pace (`KNM_WS_LIVE_RATE` messages a second):
 * it is applied like any batch but acked like live envelopes (within 250 ms), since
 * the gateway does not wait for its ack; every other batch is acked at once.
 *
 * In parts: to a subscription that asked for them (`parts: true`), a folded batch
 * larger than what its link takes in about four seconds (measured from its acks;
 * 128 KiB until it is) comes as several `batch` events with the same
 * `fromSeq` and `seq`, numbered by `part` from 0; all but the last have `more: true`.
 * The client applies each part's envelopes as it comes (for a batch from 0 it clears
 * the view before part 0 only) and stays where it was (at `fromSeq`, or 0 for a batch
 * from 0) until the last part, after which it is at `seq`. It acks each part at once
 * with `{ cluster, seq, part }` (the batch's `seq`); the gateway writes a few seconds
 * of parts at a time and the next ones once those are acked. Why: a batch waits whole
 * in the socket's buffers and ahead of Socket.IO's pings, so a catch-up of a big
 * cluster (half a megabyte compressed) on a 16 KB/s link took half a minute, past the
 * 20 s ping timeout: the client was dropped and owed the batch again. Applying a
 * part again (after a reconnect, the resume batch carries the same nodes) is
 * harmless: a batch's envelopes are states, not increments.
 */
export const BatchMessageSchema = z.object({
  ...batchHeader(),
  envelopes: z.array(EnvelopeSchema),
  live: z.literal(true).optional(),
});
export type BatchMessage = z.infer<typeof BatchMessageSchema>;

/**
 * `batch`, compressed: what a subscription that asked for `encoding` is sent instead
 * of a large {@link BatchMessage} (a resume, a merged catch-up, a whole state) or a
 * large live message (then with `live: true`: a run of live envelopes, or a single
 * one such as a usage poll, acked like live envelopes). `data`
 * is the batch's `envelopes` array as JSON text, UTF-8, compressed with `encoding`
 * (raw DEFLATE), sent as a binary Socket.IO attachment (a Buffer in Node, an
 * ArrayBuffer in a browser); the other fields are the batch's. A client inflates and
 * parses `data` and applies the batch like a plain one.
 *
 * Why: the gateway compresses a shared batch once for every socket it goes to, and a
 * batch is mostly node snapshots that differ in a few fields: a resume of a 5,000-node
 * cluster is megabytes of JSON and an order of magnitude less deflated, which is what
 * bounds how fast a crowd of clients catches up after an overload. Live too: a usage
 * poll of 5,000 nodes is about 260 KB of JSON (60 KB deflated) every 15 s, more than a
 * 16 KB/s link takes plain.
 */
export const CompressedBatchMessageSchema = z.object({
  ...batchHeader(),
  encoding: z.enum(BATCH_ENCODINGS),
  data: z.union([z.instanceof(Uint8Array), z.instanceof(ArrayBuffer)]),
  live: z.literal(true).optional(),
});
export type CompressedBatchMessage = z.infer<typeof CompressedBatchMessageSchema>;

/**
 * `ack` (client -> server, no callback): the client has applied everything of
 * `cluster` up to `seq`; with `part`, it has applied that part of the batch in parts
 * up to `seq` (see {@link BatchMessageSchema}). A client that acks is held to a bound on what it has been
 * sent but not applied (bytes in flight, whatever the network buffers in between):
 * past it, it is switched to merged delivery, and it gets the next batch only once
 * it acked the previous one. So a slow link never holds more than that bound plus
 * one batch, and the client is never minutes behind. A client that never acks is
 * bounded by the gateway's own socket buffers only. The SDK acks each batch at once
 * and live envelopes (and `live` batches) at least every 250 ms.
 */
export const AckMessageSchema = z.strictObject({
  cluster: ClusterNameSchema,
  seq: z.number().int().nonnegative(),
  part: z.number().int().nonnegative().optional(),
});
export type AckMessage = z.infer<typeof AckMessageSchema>;

/** `unsubscribe`: stop receiving a cluster's envelopes. */
export const UnsubscribeMessageSchema = z.strictObject({ cluster: ClusterNameSchema });
export type UnsubscribeMessage = z.infer<typeof UnsubscribeMessageSchema>;

/** Why a realtime request was refused. */
export const RealtimeErrorCodeSchema = z.enum([
  /** The message does not match its schema (details in `message`). */
  'bad_request',
  /** No such cluster is registered. */
  'unknown_cluster',
  /** The token does not cover this cluster. */
  'forbidden',
  /** Redis or the gateway cannot serve the request right now; retry later. */
  'unavailable',
  /** Too many requests on this socket; retry after a while. */
  'too_many_requests',
]);
export type RealtimeErrorCode = z.infer<typeof RealtimeErrorCodeSchema>;

/** A refused request's ack. The connection stays up. */
export const RealtimeErrorAckSchema = z.object({
  ok: z.literal(false),
  error: z.object({ code: RealtimeErrorCodeSchema, message: z.string() }),
});
export type RealtimeErrorAck = z.infer<typeof RealtimeErrorAckSchema>;

/**
 * Ack of `subscribe`: `seq` is where the gateway takes the client to be: its
 * `sinceSeq` (everything after it follows, the resume batch first), or without
 * `sinceSeq` the cluster's seq at subscription (live changes continue after it).
 * (Gateways before 2026-12-02 wrote the resume batch before the ack and answered
 * with the batch's seq; a client that applies batches whether or not the ack has
 * come works with both.)
 */
export const SubscribeAckSchema = z.union([
  z.object({ ok: z.literal(true), seq: z.number().int().nonnegative() }),
  RealtimeErrorAckSchema,
]);
export type SubscribeAck = z.infer<typeof SubscribeAckSchema>;

/** Ack of `unsubscribe`. */
export const UnsubscribeAckSchema = z.union([z.object({ ok: z.literal(true) }), RealtimeErrorAckSchema]);
export type UnsubscribeAck = z.infer<typeof UnsubscribeAckSchema>;

/**
 * `test_message` (server -> client, with an ack callback): an end-to-end test an
 * admin sent with `POST /api/v1/ws/test`; a client acknowledges it with
 * `{ ok: true }`, which is how the admin learns it arrived.
 */
export const TestMessageSchema = z.object({
  id: z.string(),
  cluster: ClusterNameSchema,
  message: z.string(),
  sentAt: z.string(),
});
export type TestMessage = z.infer<typeof TestMessageSchema>;

/** `welcome`: sent once after a successful handshake. */
export const WelcomeMessageSchema = z.object({
  /** {@link PROTOCOL_VERSION} of the gateway. */
  protocol: z.number().int().positive(),
  /** The gateway replica's identity (for diagnostics only). */
  gateway: z.string(),
  sub: z.string(),
});
export type WelcomeMessage = z.infer<typeof WelcomeMessageSchema>;
