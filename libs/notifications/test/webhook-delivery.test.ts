import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  INCIDENT_EVENT_FIELD,
  toClusterName,
  WebhookSinkInputSchema,
  type IncidentNotification,
  type IncidentTransitionInput,
} from '@knm/contracts';
import { createRedisConnection, type RedisClient } from '@knm/node-store';
import { SecretBox } from '@knm/secrets';
import { createTestRedis, waitFor, type TestRedis } from '@knm/testing';
import { NotificationDispatcher, WebhookDeliveryWorker, WebhookSinkStore } from '../src/index.js';

const cluster = toClusterName('prod');

/** A real HTTP receiver that records each message with its delivery id; can be closed and reopened on its port. */
class Receiver {
  readonly received: { delivery: string; body: IncidentNotification }[] = [];
  private server: Server | undefined;
  port = 0;

  async open(): Promise<void> {
    const server = createServer((req, res) => {
      void readBody(req).then((text) => {
        this.received.push({
          delivery: String(req.headers['x-knm-delivery']),
          body: JSON.parse(text) as IncidentNotification,
        });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** node -> kinds received for it, in order. */
  byNode(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const { body } of this.received)
      for (const i of body.incidents) (out[i.node] ??= []).push(body.type);
    return out;
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

let t: TestRedis;
let queueConnections: RedisClient[];
let closers: (() => Promise<void>)[];
let sinks: WebhookSinkStore;
let receiver: Receiver;

beforeEach(async () => {
  t = await createTestRedis();
  queueConnections = [];
  closers = [];
  sinks = new WebhookSinkStore(
    t.client,
    t.keyspace,
    SecretBox.fromEnv({ KNM_SECRETS_KEY: randomBytes(32).toString('base64') }),
  );
  receiver = new Receiver();
  await receiver.open();
});

afterEach(async () => {
  for (const close of closers.reverse()) await close();
  await Promise.all(queueConnections.map((c) => c.quit().catch(() => undefined)));
  await receiver.close();
  await t.close();
});

const bullConnection = (): RedisClient => {
  const c = createRedisConnection(t.url, 'bullmq');
  queueConnections.push(c);
  return c;
};

function startDispatcher(): NotificationDispatcher {
  const d = new NotificationDispatcher({
    redis: t.client,
    queueConnection: bullConnection(),
    keyspace: t.keyspace,
    cluster,
    sinks,
    groupWindowMs: 300,
    pollMs: 50,
  });
  d.start();
  closers.push(() => d.stop());
  return d;
}

async function startWorker(): Promise<WebhookDeliveryWorker> {
  const w = new WebhookDeliveryWorker({
    redis: t.client,
    queueConnection: bullConnection(),
    keyspace: t.keyspace,
    sinks,
    timeoutMs: 2_000,
  });
  await w.ready();
  closers.push(() => w.close());
  return w;
}

/** What the fenced incident step appends to the outbox. */
async function appendTransition(
  node: string,
  kind: 'opened' | 'resolved',
  labels: Record<string, string> = {},
): Promise<void> {
  const transition: IncidentTransitionInput = {
    cluster,
    node,
    incident: `${node}:2026-12-02T10:00:00.000Z`,
    kind,
    cause: 'NotReady',
    startedAt: '2026-12-02T10:00:00.000Z',
    ...(kind === 'resolved' ? { endedAt: '2026-12-02T10:00:42.000Z' } : {}),
    labels,
  };
  await t.client.xadd(
    t.keyspace.cluster(cluster).incidentEvents,
    '*',
    INCIDENT_EVENT_FIELD,
    JSON.stringify(transition),
  );
}

const addSink = (over: Record<string, unknown> = {}): Promise<unknown> =>
  sinks.add(
    WebhookSinkInputSchema.parse({
      name: 'ops',
      format: 'json',
      url: `http://127.0.0.1:${receiver.port}/hook?token=s3cr3t`,
      ...over,
    }),
  );

describe('incident notifications over webhooks', () => {
  it('groups nodes that fail together, notifies once per transition, and honours the selector', async () => {
    await addSink({ selector: 'pool=gpu' });
    startDispatcher();
    await startWorker();
    for (const node of ['gpu-1', 'gpu-2', 'gpu-3']) await appendTransition(node, 'opened', { pool: 'gpu' });
    await appendTransition('cpu-1', 'opened', { pool: 'cpu' });
    await waitFor(() => receiver.received.length >= 1, { what: 'the grouped open message' });
    for (const node of ['gpu-1', 'gpu-2', 'gpu-3']) await appendTransition(node, 'resolved', { pool: 'gpu' });
    await waitFor(() => receiver.received.length >= 2, { what: 'the grouped resolve message' });

    expect(receiver.received.map((r) => [r.body.type, r.body.incidents.map((i) => i.node)])).toEqual([
      ['incidents.opened', ['gpu-1', 'gpu-2', 'gpu-3']],
      ['incidents.resolved', ['gpu-1', 'gpu-2', 'gpu-3']],
    ]);
    expect(receiver.received[1]?.body.incidents[0]?.durationSeconds).toBe(42);
    // Nothing more comes: the outbox is handed over and the cursor is past it.
    const keys = t.keyspace.cluster(cluster);
    await waitFor(async () => (await t.client.exists(keys.notifyPlan)) === 0, {
      what: 'no hand-over pending',
    });
    const last = await t.client.xrevrange(keys.incidentEvents, '+', '-', 'COUNT', 1);
    expect(await t.client.get(keys.notifyCursor)).toBe(last[0]?.[0]);
  });

  it('two dispatchers at once (a failover in the middle) still notify each transition once', async () => {
    await addSink();
    startDispatcher();
    startDispatcher();
    await startWorker();
    for (let i = 0; i < 30; i++) {
      await appendTransition(`n${i}`, 'opened');
      if (i % 7 === 0) await appendTransition(`n${i}`, 'resolved');
    }
    await waitFor(() => Object.values(receiver.byNode()).flat().length >= 35, {
      what: '35 notifications',
      timeout: 15_000,
    });
    const byNode = receiver.byNode();
    for (let i = 0; i < 30; i++) {
      expect(byNode[`n${i}`]).toEqual(
        i % 7 === 0 ? ['incidents.opened', 'incidents.resolved'] : ['incidents.opened'],
      );
    }
    expect(new Set(receiver.received.map((r) => r.delivery)).size).toBe(receiver.received.length);
  });

  it('a receiver down for 30 s loses nothing and gets nothing twice', async () => {
    await addSink();
    startDispatcher();
    const worker = await startWorker();
    let failures = 0;
    (worker as unknown as { worker: { on(e: 'failed', f: () => void): void } }).worker.on(
      'failed',
      () => (failures += 1),
    );
    await receiver.close();
    const downAt = Date.now();
    await appendTransition('a', 'opened');
    await appendTransition('b', 'opened');
    await waitFor(() => failures >= 3, {
      what: 'three failed attempts while the receiver is down',
      timeout: 20_000,
    });
    await appendTransition('a', 'resolved');
    // The outage lasts 30 s in all (the scenario the issue sets), then the receiver is back on its port.
    await waitFor(() => Date.now() - downAt >= 30_000, {
      what: '30 s of outage',
      timeout: 35_000,
      interval: 250,
    });
    await receiver.open();
    await waitFor(() => Object.values(receiver.byNode()).flat().length >= 3, {
      what: 'every notification after the outage',
      timeout: 90_000,
    });
    expect(receiver.byNode()).toEqual({
      a: ['incidents.opened', 'incidents.resolved'],
      b: ['incidents.opened'],
    });
    expect(new Set(receiver.received.map((r) => r.delivery)).size).toBe(receiver.received.length);
  }, 150_000);
});
