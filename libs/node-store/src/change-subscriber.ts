import { EnvelopeSchema, decodeJson, type ClusterName, type Envelope, type Keyspace } from '@knm/contracts';
import type { RedisClient } from './redis-client.js';
import type { PubSubMode } from './write-scripts.js';

/** Options of {@link ChangeSubscriber}. */
export interface ChangeSubscriberOptions {
  /** Called with every message that is not a valid envelope of the channel's cluster; it is dropped. Default: ignored. */
  onInvalid?: (raw: string, err: Error) => void;
  /** Called when a listener throws (the other listeners still run); `envelope` is unset for `onResubscribed` listeners. Default: ignored. */
  onListenerError?: (err: Error, envelope: Envelope | undefined) => void;
  /**
   * SUBSCRIBE (`classic`) or SSUBSCRIBE (`sharded`); must match the writers' mode. With
   * `sharded` and an ioredis `Cluster`, create the Cluster with `shardedSubscribers: true`.
   * Default `classic`.
   */
  pubsub?: PubSubMode;
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
 * Classic or sharded pub/sub (`pubsub` option, default `classic`): classic works
 * everywhere with one connection, but on a Redis Cluster every message is broadcast
 * to every node. Sharded (SPUBLISH/SSUBSCRIBE, Redis >= 7) keeps each message on the
 * shard that owns the cluster's slot; on a Cluster it needs a client that opens one
 * subscriber connection per shard (ioredis `Cluster` with `shardedSubscribers: true`),
 * because a node only delivers sharded messages of its own slots. Both modes are
 * tested against a standalone Redis and a real 3-master Cluster.
 */
export class ChangeSubscriber {
  private readonly listeners: ((e: Envelope) => void)[] = [];
  private readonly channels = new Map<string, ClusterName>();
  private readonly onInvalid: (raw: string, err: Error) => void;
  private readonly onListenerError: (err: Error, envelope: Envelope | undefined) => void;
  private readonly resubscribedListeners: (() => void)[] = [];
  private readonly sharded: boolean;
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
    this.sharded = options.pubsub === 'sharded';
    this.wasReady = connection.status === 'ready';
    connection.on(this.messageEvent, this.handler);
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
    await this.subscribeChannels([channel]);
  }

  /** Stops receiving one cluster's changes. */
  async unsubscribe(cluster: ClusterName): Promise<void> {
    const channel = this.keyspace.cluster(cluster).changes;
    this.channels.delete(channel);
    await (this.sharded ? this.connection.sunsubscribe(channel) : this.connection.unsubscribe(channel));
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
    this.connection.off(this.messageEvent, this.handler);
    this.connection.off('ready', this.readyHandler);
    if (channels.length > 0 && this.connection.status === 'ready') {
      await Promise.all(
        channels.map((c) =>
          this.sharded ? this.connection.sunsubscribe(c) : this.connection.unsubscribe(c),
        ),
      ).catch(() => undefined);
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
    this.subscribeChannels(channels).then(
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

  private get messageEvent(): 'message' | 'smessage' {
    return this.sharded ? 'smessage' : 'message';
  }

  /** One command per channel in sharded mode: SSUBSCRIBE takes channels of one slot only. */
  private async subscribeChannels(channels: readonly string[]): Promise<void> {
    if (this.sharded) await Promise.all(channels.map((c) => this.connection.ssubscribe(c)));
    else await this.connection.subscribe(...channels);
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
