import { z } from 'zod';
import { ClusterNameSchema } from './cluster-name.js';

/** The Socket.IO namespace that serves live node changes. */
export const REALTIME_NAMESPACE = '/nodes';

/**
 * Socket.IO event names of the `/nodes` namespace.
 * - client -> server: `subscribe`, `unsubscribe` (both with an ack callback)
 * - server -> client: `envelope` (one {@link Envelope} per event, in seq order per cluster),
 *   `welcome` (once after the handshake)
 */
export const RealtimeEvents = {
  subscribe: 'subscribe',
  unsubscribe: 'unsubscribe',
  envelope: 'envelope',
  welcome: 'welcome',
} as const;

/**
 * `subscribe`: start receiving a cluster's envelopes. With `sinceSeq`, every
 * envelope with a greater seq that the gateway can still replay is sent first, then
 * the live ones, with no gap and no duplicate; when they cannot be replayed, a
 * `resync` envelope (reason `replay_unavailable`) tells the client to reload.
 */
export const SubscribeMessageSchema = z.strictObject({
  cluster: ClusterNameSchema,
  sinceSeq: z.number().int().nonnegative().optional(),
});
export type SubscribeMessage = z.infer<typeof SubscribeMessageSchema>;

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
]);
export type RealtimeErrorCode = z.infer<typeof RealtimeErrorCodeSchema>;

/** A refused request's ack. The connection stays up. */
export const RealtimeErrorAckSchema = z.object({
  ok: z.literal(false),
  error: z.object({ code: RealtimeErrorCodeSchema, message: z.string() }),
});
export type RealtimeErrorAck = z.infer<typeof RealtimeErrorAckSchema>;

/**
 * Ack of `subscribe`: `seq` is the last seq the client has been sent or will be sent
 * before live ones (the last replayed seq, or the cluster's seq at subscription).
 */
export const SubscribeAckSchema = z.union([
  z.object({ ok: z.literal(true), seq: z.number().int().nonnegative() }),
  RealtimeErrorAckSchema,
]);
export type SubscribeAck = z.infer<typeof SubscribeAckSchema>;

/** Ack of `unsubscribe`. */
export const UnsubscribeAckSchema = z.union([z.object({ ok: z.literal(true) }), RealtimeErrorAckSchema]);
export type UnsubscribeAck = z.infer<typeof UnsubscribeAckSchema>;

/** `welcome`: sent once after a successful handshake. */
export const WelcomeMessageSchema = z.object({
  /** The gateway replica's identity (for diagnostics only). */
  gateway: z.string(),
  sub: z.string(),
});
export type WelcomeMessage = z.infer<typeof WelcomeMessageSchema>;
