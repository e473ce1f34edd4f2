import { EnvelopeSchema, decodeJson, type ClusterName, type Envelope, type Keyspace } from '@knm/contracts';
import type { RedisClient } from './redis-client.js';

/** Options of {@link ChangeSubscriber}. */
export interface ChangeSubscriberOptions {
  /** Called with every message that is not a valid envelope of the channel's cluster; it is dropped. Default: ignored. */
  onInvalid?: (raw: string, err: Error) => void;
  /** Called when a listener throws (the other listeners still run); `envelope` is unset for `onResubscribed` listeners. Default: ignored. */
  onListenerError?: (err: Error, envelope: Envelope | undefined) => void;
}

/**
 * Subscribes to clusters' `knm:{c}:changes` channels on a dedicated connection and
 * hands every decoded envelope to the listeners, in the order Redis delivered them
 * (per channel that is seq order, since each envelope is published inside the
 * script that allocated its seq). Bad messages are reported via `onInvalid` and
 * dropped, never thrown; a throwing listener does not stop the others.
 *
 * Pub/sub is at-most-once: envelopes published while the connection is down are
 * lost. After a reconnect this class subscribes every channel again and, once Redis
 * confirmed, fires `onResubscribed`: from then on nothing is missed, so a catch-up
 * with `NodeStoreReader.readEventsAfter` from the last seq seen (dropping envelopes
 * with seq <= the last one applied) closes the hole.
 *
 * Why plain PUBLISH/SUBSCRIBE and not sharded (SPUBLISH/SSUBSCRIBE): this class takes
 * one connection, and on a Redis Cluster a node only delivers sharded messages of
 * the slots it owns, so one connection cannot follow clusters on different shards.
 * Classic pub/sub is broadcast to every node and works on one connection against a
 * standalone Redis or a Cluster. Moving to sharded pub/sub needs a cluster-aware
 * subscriber (ioredis `Cluster` with sharded subscribers) in both the scripts and here.
 */
export class ChangeSubscriber {
  private readonly listeners: ((e: Envelope) => void)[] = [];
  private readonly channels = new Map<string, ClusterName>();
  private readonly onInvalid: (raw: string, err: Error) => void;
  private readonly onListenerError: (err: Error, envelope: Envelope | undefined) => void;
  private readonly resubscribedListeners: (() => void)[] = [];
  private readonly handler = (channel: string, message: string): void => this.receive(channel, message);
  private readonly readyHandler = (): void => this.onReady();
  private wasReady: boolean;
  private closed = false;

  constructor(
    private readonly connection: RedisClient,
    private readonly keyspace: Keyspace,
    options: ChangeSubscriberOptions = {},
  ) {
    this.onInvalid = options.onInvalid ?? (() => undefined);
    this.onListenerError = options.onListenerError ?? (() => undefined);
    this.wasReady = connection.status === 'ready';
    connection.on('message', this.handler);
    connection.on('ready', this.readyHandler);
  }

  /**
   * Registers a listener fired after the connection came back and every subscribed
   * channel is confirmed again. Envelopes published during the outage were lost:
   * catch up with `readEventsAfter` (or resync) for each cluster.
   */
  onResubscribed(listener: () => void): void {
    this.resubscribedListeners.push(listener);
  }

  /** Subscribes to one cluster's changes; resolves once Redis confirmed the subscription. */
  async subscribe(cluster: ClusterName): Promise<void> {
    if (this.closed) throw new Error('ChangeSubscriber is closed');
    const channel = this.keyspace.cluster(cluster).changes;
    this.channels.set(channel, cluster);
    await this.connection.subscribe(channel);
  }

  /** Stops receiving one cluster's changes. */
  async unsubscribe(cluster: ClusterName): Promise<void> {
    const channel = this.keyspace.cluster(cluster).changes;
    this.channels.delete(channel);
    await this.connection.unsubscribe(channel);
  }

  /** Adds a listener for every envelope of every subscribed cluster. */
  onEnvelope(listener: (e: Envelope) => void): void {
    this.listeners.push(listener);
  }

  /** Unsubscribes from everything and detaches from the connection (which the caller owns and closes). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const channels = [...this.channels.keys()];
    this.channels.clear();
    this.connection.off('message', this.handler);
    this.connection.off('ready', this.readyHandler);
    if (channels.length > 0 && this.connection.status === 'ready') {
      await this.connection.unsubscribe(...channels).catch(() => undefined);
    }
  }

  private onReady(): void {
    if (!this.wasReady) {
      this.wasReady = true; // the first connect, not a reconnect
      return;
    }
    const channels = [...this.channels.keys()];
    if (this.closed || channels.length === 0) return;
    // ioredis resubscribes on its own too; subscribing here as well gives a promise
    // that resolves once Redis confirmed (subscribing twice to a channel is harmless).
    this.connection.subscribe(...channels).then(
      () => {
        for (const listener of this.resubscribedListeners) {
          try {
            listener();
          } catch (err) {
            this.onListenerError(err as Error, undefined);
          }
        }
      },
      () => undefined, // the connection dropped again; the next 'ready' retries
    );
  }

  private receive(channel: string, message: string): void {
    const cluster = this.channels.get(channel);
    if (cluster === undefined) return;
    let envelope: Envelope;
    try {
      envelope = decodeJson(EnvelopeSchema, message, `${channel} message`);
    } catch (err) {
      this.onInvalid(message, err as Error);
      return;
    }
    if (envelope.cluster !== cluster) {
      this.onInvalid(message, new Error(`envelope of cluster "${envelope.cluster}" on channel ${channel}`));
      return;
    }
    for (const listener of this.listeners) {
      try {
        listener(envelope);
      } catch (err) {
        this.onListenerError(err as Error, envelope);
      }
    }
  }
}
