import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestRedis, makeNodeSnapshot, waitFor, type TestRedis } from '@knm/testing';
import { toClusterName, type Envelope } from '@knm/contracts';
import { ChangeSubscriber, NodeStoreWriter, type PubSubMode } from '../src/index.js';

const dev = toClusterName('dev');
const prod = toClusterName('prod');

describe.each<PubSubMode>(['classic', 'sharded'])('with %s pub/sub', (pubsub) => {
  /** Publishes a raw message the way the writers of this mode do. */
  const publish = (channel: string, message: string) =>
    pubsub === 'sharded' ? t.client.spublish(channel, message) : t.client.publish(channel, message);

  let t: TestRedis;
  let subscriber: ChangeSubscriber;
  let received: Envelope[];
  let invalid: { raw: string; err: Error }[];
  let devWriter: NodeStoreWriter;

  beforeEach(async () => {
    t = await createTestRedis();
    received = [];
    invalid = [];
    subscriber = new ChangeSubscriber(t.connect(), t.keyspace, {
      pubsub,
      onInvalid: (raw, err) => invalid.push({ raw, err }),
    });
    subscriber.onEnvelope((e) => received.push(e));
    await t.client.set(t.keyspace.cluster(dev).epoch, '1');
    devWriter = new NodeStoreWriter(t.client, t.keyspace, dev, 1, 'w', { pubsub });
  });
  afterEach(async () => {
    await subscriber.close();
    await t.close();
  });

  describe('ChangeSubscriber', () => {
    it('receives every envelope of a subscribed cluster in seq order', async () => {
      await subscriber.subscribe(dev);
      for (let i = 0; i < 50; i += 1) {
        if (i % 2 === 0)
          await devWriter.applyNodeChanges([{ type: 'node_add', node: makeNodeSnapshot(`n${i}`) }]);
        else await devWriter.applyPodDeltas({ [`n${i - 1}`]: 1 });
      }
      await waitFor(() => received.length === 50, { what: '50 envelopes' });
      expect(received.map((e) => e.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      expect(received[0]).toMatchObject({ type: 'node_add', node: 'n0', data: makeNodeSnapshot('n0') });
      expect(invalid).toEqual([]);
    });

    it('reports a garbage message through onInvalid and still delivers the next valid one', async () => {
      await subscriber.subscribe(dev);
      const channel = t.keyspace.cluster(dev).changes;
      await publish(channel, 'not json at all');
      await publish(channel, '{"seq":1,"type":"node_add","cluster":"dev"}');
      await publish(
        channel,
        JSON.stringify({
          seq: 1,
          type: 'resync',
          cluster: 'prod',
          data: { reason: 'rebuild', epoch: 1 },
          timestamp: 'x',
        }),
      );
      await devWriter.applyPodDeltas({ a: 1 });
      await waitFor(() => received.length === 1, { what: 'the valid envelope' });
      expect(received[0]).toMatchObject({ seq: 1, type: 'pod_counts', data: { counts: { a: 1 } } });
      expect(invalid.map((i) => i.raw.slice(0, 20))).toEqual([
        'not json at all',
        '{"seq":1,"type":"nod',
        '{"seq":1,"type":"res',
      ]);
      expect(invalid.every((i) => i.err instanceof Error)).toBe(true);
    });

    it('a throwing listener does not stop the others', async () => {
      const errors: Error[] = [];
      await subscriber.close();
      subscriber = new ChangeSubscriber(t.connect(), t.keyspace, {
        pubsub,
        onListenerError: (err) => errors.push(err),
      });
      subscriber.onEnvelope(() => {
        throw new Error('listener bug');
      });
      subscriber.onEnvelope((e) => received.push(e));
      await subscriber.subscribe(dev);
      await devWriter.applyPodDeltas({ a: 1 });
      await waitFor(() => received.length === 1);
      expect(errors.map((e) => e.message)).toEqual(['listener bug']);
    });

    it('follows several clusters and stops after unsubscribe', async () => {
      await t.client.set(t.keyspace.cluster(prod).epoch, '1');
      const prodWriter = new NodeStoreWriter(t.client, t.keyspace, prod, 1, 'w', { pubsub });
      await subscriber.subscribe(dev);
      await subscriber.subscribe(prod);
      await devWriter.applyPodDeltas({ a: 1 });
      await prodWriter.applyPodDeltas({ b: 1 });
      await waitFor(() => received.length === 2);
      expect(received.map((e) => e.cluster).sort()).toEqual(['dev', 'prod']);
      await subscriber.unsubscribe(dev);
      await devWriter.applyPodDeltas({ a: 1 });
      await prodWriter.applyPodDeltas({ b: 1 });
      // prod:2 was published after dev:2 and both would come over one connection in order.
      await waitFor(() => received.some((e) => e.cluster === 'prod' && e.seq === 2), { what: 'prod:2' });
      expect(received.map((e) => `${e.cluster}:${e.seq}`).sort()).toEqual(['dev:1', 'prod:1', 'prod:2']);
    });
  });

  describe('ChangeSubscriber reconnects', () => {
    it('resubscribes after the connection was killed, fires onResubscribed, and delivers again', async () => {
      const connection = t.connect();
      const id = await connection.client('ID');
      const own = new ChangeSubscriber(connection, t.keyspace, { pubsub });
      const got: Envelope[] = [];
      let resubscribed = 0;
      own.onEnvelope((e) => got.push(e));
      own.onResubscribed(() => (resubscribed += 1));
      await own.subscribe(dev);
      await devWriter.applyPodDeltas({ a: 1 });
      await waitFor(() => got.length === 1);
      await t.client.client('KILL', 'ID', String(id));
      await waitFor(() => resubscribed === 1, { what: 'onResubscribed after the kill', timeout: 15_000 });
      await devWriter.applyPodDeltas({ a: 1 });
      await waitFor(() => got.length === 2, { what: 'an envelope after the reconnect' });
      expect(got.map((e) => e.seq)).toEqual([1, 2]);
      await own.close();
    });
  });
});
