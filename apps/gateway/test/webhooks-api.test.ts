import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorBodySchema } from '@knm/contracts';
import { createTestRedis, type TestRedis } from '@knm/testing';
import { loadRegistryConfig } from '../src/registry/registry-config.js';
import { httpCall, startGateway, token, type RunningGateway } from './support/gateway-harness.js';

let redis: TestRedis;
let gw: RunningGateway;
let receiver: Server;
let receiverUrl: string;
const received: { path: string; delivery: string; body: unknown }[] = [];
let admin: string;

beforeEach(async () => {
  received.length = 0;
  redis = await createTestRedis();
  gw = await startGateway(redis, {
    registry: loadRegistryConfig(
      { KNM_SECRETS_KEY: randomBytes(32).toString('base64') },
      (m) => new Error(m),
    ),
  });
  admin = await token({ role: 'admin' });
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        path: req.url ?? '',
        delivery: String(req.headers['x-knm-delivery']),
        body: JSON.parse(Buffer.concat(chunks).toString()),
      });
      res.writeHead(req.url?.includes('refuse') ? 403 : 200).end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await gw.close();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
  await redis.close();
});

const call = (method: string, path: string, body?: unknown, auth: string | null = admin) =>
  httpCall(gw.url, path, { method, auth, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });

describe('/api/v1/webhooks', () => {
  it('adds a sink, never shows its URL again, keeps it sealed in Redis, tests and removes it', async () => {
    const url = `${receiverUrl}/hooks/T000/B000/s3cr3t-path?token=s3cr3t-query`;
    const added = await call('POST', '/api/v1/webhooks', {
      name: 'ops chat',
      format: 'slack',
      url,
      selector: 'pool=gpu',
    });
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    const sink = added.body as { id: string; target: string };
    expect(sink.target).toBe(receiverUrl);
    const listed = await call('GET', '/api/v1/webhooks');
    expect(listed.status).toBe(200);
    for (const answer of [added, listed]) expect(JSON.stringify(answer.body)).not.toMatch(/s3cr3t/);
    for (const key of await redis.keys()) {
      const type = await redis.client.type(key);
      const dump =
        type === 'hash'
          ? JSON.stringify(await redis.client.hgetall(key))
          : type === 'string'
            ? await redis.client.get(key)
            : '';
      expect(dump ?? '').not.toMatch(/s3cr3t/);
    }

    const tested = await call('POST', `/api/v1/webhooks/${sink.id}/test`);
    expect(tested.status, JSON.stringify(tested.body)).toBe(200);
    expect(received).toHaveLength(1);
    expect(received[0]?.path).toBe('/hooks/T000/B000/s3cr3t-path?token=s3cr3t-query');
    expect(received[0]?.body).toEqual({ text: expect.stringContaining('knm test message') });

    expect((await call('DELETE', `/api/v1/webhooks/${sink.id}`)).status).toBe(204);
    expect((await call('DELETE', `/api/v1/webhooks/${sink.id}`)).status).toBe(404);
    expect(((await call('GET', '/api/v1/webhooks')).body as { items: unknown[] }).items).toEqual([]);
  });

  it('says what is wrong with a sink, refuses non-admins, and reports a receiver that refuses the test', async () => {
    const bad = await call('POST', '/api/v1/webhooks', {
      name: 'x',
      format: 'teams',
      url: 'ftp://example',
      selector: 'a in (',
    });
    expect(bad.status).toBe(400);
    const message = ErrorBodySchema.parse(bad.body).message + JSON.stringify(bad.body);
    expect(message).toMatch(/format/);
    expect(message).toMatch(/http\(s\) URL/);
    expect(message).toMatch(/selector/);

    const viewer = await token({ role: 'operator' });
    expect((await call('GET', '/api/v1/webhooks', undefined, viewer)).status).toBe(403);
    expect(
      (await call('POST', '/api/v1/webhooks', { name: 'x', format: 'json', url: receiverUrl }, viewer))
        .status,
    ).toBe(403);

    const added = await call('POST', '/api/v1/webhooks', {
      name: 'refuses',
      format: 'json',
      url: `${receiverUrl}/refuse`,
    });
    const tested = await call('POST', `/api/v1/webhooks/${(added.body as { id: string }).id}/test`);
    expect(tested.status).toBe(502);
    expect(ErrorBodySchema.parse(tested.body).message).toMatch(/refused the message: 403/);
    expect(JSON.stringify(tested.body)).not.toContain('/refuse');
  });

  it('answers 503 saying why when the gateway has no KNM_SECRETS_KEY', async () => {
    const plain = await startGateway(redis);
    try {
      const res = await httpCall(plain.url, '/api/v1/webhooks', { auth: admin });
      expect(res.status).toBe(503);
      expect(ErrorBodySchema.parse(res.body).message).toMatch(/KNM_SECRETS_KEY/);
    } finally {
      await plain.close();
    }
  });
});
