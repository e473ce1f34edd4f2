import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AuditResponseSchema,
  CreateOperationResponseSchema,
  DryRunResponseSchema,
  ErrorBodySchema,
  OperationSchema,
  toClusterName,
  type ErrorBody,
} from '@knm/contracts';
import { AuditLog, auditRecordOf, OperationStore } from '@knm/node-ops';
import { createTestRedis, makeNodeSnapshot, waitFor, type TestRedis } from '@knm/testing';
import {
  connectSocket,
  connected,
  seedCluster,
  startGateway,
  token,
  type RunningGateway,
} from './support/gateway-harness.js';
import { ProgressCollector } from './support/operations-harness.js';

// The gateway only validates, enqueues and reads: no worker runs here, so operations stay queued.
let redis: TestRedis;
let gw: RunningGateway;
let operator: string;

beforeEach(async () => {
  redis = await createTestRedis();
  await seedCluster(
    redis,
    'dev',
    [
      makeNodeSnapshot('n-1', { labels: { env: 'staging' } }),
      makeNodeSnapshot('n-2', { labels: { env: 'prod' }, unschedulable: true }),
      makeNodeSnapshot('n-3', { labels: { env: 'prod' }, taints: [{ key: 'gpu', effect: 'NoSchedule' }] }),
      makeNodeSnapshot('cp-1', {
        labels: { env: 'system', 'node-role.kubernetes.io/control-plane': '' },
        roles: ['control-plane'],
      }),
    ],
    { 'n-1': 3 },
  );
  await seedCluster(redis, 'prod', [makeNodeSnapshot('p-1')]);
  gw = await startGateway(redis);
  operator = await token({ sub: 'olga', role: 'operator', clusters: [toClusterName('dev')] });
});

afterEach(async () => {
  await gw?.close();
  await redis?.close();
});

async function call(method: string, path: string, auth: string | null, body?: unknown) {
  const res = await fetch(`${gw.url}${path}`, {
    method,
    headers: {
      ...(auth ? { authorization: `Bearer ${auth}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as unknown };
}

async function refused(
  status: number,
  method: string,
  path: string,
  auth: string | null,
  body?: unknown,
): Promise<ErrorBody> {
  const res = await call(method, path, auth, body);
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  return ErrorBodySchema.parse(res.body);
}

describe('operations REST API', { timeout: 30_000 }, () => {
  it('creates a queued operation (202), readable by id and in the recent list', async () => {
    const res = await call('POST', '/api/v1/clusters/dev/operations', operator, {
      action: 'label',
      nodes: ['n-1', 'n-3'],
      params: { labels: { team: 'a' } },
      reason: 'ownership',
    });
    expect(res.status).toBe(202);
    const created = CreateOperationResponseSchema.parse(res.body);
    expect(created.operationId).toMatch(/^dev\.[0-9a-f-]{36}$/);
    expect(created.operation).toMatchObject({
      state: 'queued',
      nodes: ['n-1', 'n-3'],
      createdBy: 'olga',
      progress: { done: 0, total: 2 },
    });
    const got = await call('GET', `/api/v1/operations/${created.operationId}`, operator);
    expect(got.status).toBe(200);
    expect(OperationSchema.parse(got.body)).toEqual(created.operation);
    const list = await call('GET', '/api/v1/clusters/dev/operations', operator);
    expect((list.body as { items: { id: string }[] }).items.map((o) => o.id)).toEqual([created.operationId]);
    const counts = await redis.client.llen(`${redis.namespace}:{dev}:ops:wait`);
    expect(counts).toBe(1);
  });

  it('a selector is resolved to the matching nodes by name', async () => {
    const res = await call('POST', '/api/v1/clusters/dev/operations', operator, {
      action: 'cordon',
      selector: 'env=prod',
    });
    expect(res.status).toBe(202);
    expect(CreateOperationResponseSchema.parse(res.body).operation.nodes).toEqual(['n-2', 'n-3']);
    const none = await refused(400, 'POST', '/api/v1/clusters/dev/operations', operator, {
      action: 'cordon',
      selector: 'env=nowhere',
    });
    expect(none.details).toEqual([
      { path: 'selector', message: 'selector "env=nowhere" matches no node of cluster "dev"' },
    ]);
  });

  it('an empty selector is refused (400) unless the request says all: true; drain needs includeControlPlane for control-plane nodes', async () => {
    for (const selector of ['', ' ']) {
      const empty = await refused(400, 'POST', '/api/v1/clusters/dev/operations', operator, {
        action: 'drain',
        selector,
        dryRun: true,
      });
      expect(empty.details).toContainEqual({
        path: 'selector',
        message: expect.stringMatching(/empty selector selects every node.*all: true/),
      });
    }
    const all = await call('POST', '/api/v1/clusters/dev/operations', operator, {
      action: 'cordon',
      all: true,
      dryRun: true,
    });
    expect(all.status, JSON.stringify(all.body)).toBe(200);
    expect(DryRunResponseSchema.parse(all.body).changes.map((c) => c.node)).toEqual([
      'cp-1',
      'n-1',
      'n-2',
      'n-3',
    ]);
    // A drain reaching a control-plane node, by selector, by name or by all: refused, naming it.
    for (const target of [{ selector: 'env in (prod,system)' }, { nodes: ['n-1', 'cp-1'] }, { all: true }]) {
      for (const dryRun of [true, false]) {
        const cp = await refused(400, 'POST', '/api/v1/clusters/dev/operations', operator, {
          action: 'drain',
          ...target,
          dryRun,
        });
        expect(cp.details).toContainEqual({
          path: 'params.includeControlPlane',
          message: expect.stringMatching(/1 control-plane node\(s\) of cluster "dev" \(cp-1\)/),
        });
      }
    }
    const meant = await call('POST', '/api/v1/clusters/dev/operations', operator, {
      action: 'drain',
      selector: 'env in (prod,system)',
      params: { includeControlPlane: true },
      dryRun: true,
    });
    expect(meant.status, JSON.stringify(meant.body)).toBe(200);
    expect(DryRunResponseSchema.parse(meant.body).changes.map((c) => c.node)).toEqual(['cp-1', 'n-2', 'n-3']);
    // Other actions on control-plane nodes need no flag (only drain evicts their pods).
    const cordon = await call('POST', '/api/v1/clusters/dev/operations', operator, {
      action: 'cordon',
      nodes: ['cp-1'],
      dryRun: true,
    });
    expect(cordon.status).toBe(200);
  });

  it('an error body lists at most 20 issues and says how many more (2,000 duplicate names: a few KB, not 255)', async () => {
    const res = await call('POST', '/api/v1/clusters/dev/operations', operator, {
      action: 'cordon',
      nodes: Array.from({ length: 2_000 }, () => 'n-1'),
    });
    expect(res.status).toBe(400);
    const body = ErrorBodySchema.parse(res.body);
    expect(JSON.stringify(body).length).toBeLessThan(8 * 1024);
    expect(body.details).toHaveLength(21);
    expect(body.details?.at(-1)?.message).toBe('... and 1979 more issue(s) (1999 in all)');
    expect(body.message).toMatch(/and 1979 more issue\(s\)/);
  });

  it('one operation per node at a time: a second one on a held node is 409 naming the holder; dry runs and other nodes go on', async () => {
    const first = CreateOperationResponseSchema.parse(
      (await call('POST', '/api/v1/clusters/dev/operations', operator, { action: 'drain', nodes: ['n-1'] }))
        .body,
    ).operation;
    const conflict = await refused(409, 'POST', '/api/v1/clusters/dev/operations', operator, {
      action: 'uncordon',
      nodes: ['n-2', 'n-1'],
    });
    expect(conflict.error).toBe('Conflict');
    expect(conflict.message).toBe(
      `node(s) n-1 of cluster "dev" are held by operation "${first.id}", which has not finished: ` +
        'wait for it, or cancel it (POST /api/v1/operations/<id>/cancel)',
    );
    // Nothing of the refused one was written: n-2 is still free, and no second operation exists.
    const other = await call('POST', '/api/v1/clusters/dev/operations', operator, {
      action: 'cordon',
      nodes: ['n-2'],
    });
    expect(other.status).toBe(202);
    const dry = await call('POST', '/api/v1/clusters/dev/operations', operator, {
      action: 'uncordon',
      nodes: ['n-1'],
      dryRun: true,
    });
    expect(dry.status).toBe(200);
    const list = await call('GET', '/api/v1/clusters/dev/operations', operator);
    expect((list.body as { items: unknown[] }).items).toHaveLength(2);
    // Once the holder has finished, its lock no longer counts (even if its release was missed).
    await new OperationStore(redis.client, redis.keyspace).setState(first.id, 'completed', {
      finishedAt: new Date().toISOString(),
    });
    const after = await call('POST', '/api/v1/clusters/dev/operations', operator, {
      action: 'uncordon',
      nodes: ['n-1'],
    });
    expect(after.status, JSON.stringify(after.body)).toBe(202);
  });

  it('cancel: a queued operation is cancelled at once (200), pushed live, audited, its nodes free again; 403/404/409 otherwise', async () => {
    const socket = connectSocket(gw.url, { token: operator });
    const progress = new ProgressCollector(socket);
    try {
      await connected(socket);
      const op = CreateOperationResponseSchema.parse(
        (
          await call('POST', '/api/v1/clusters/dev/operations', operator, {
            action: 'drain',
            nodes: ['n-1', 'n-3'],
          })
        ).body,
      ).operation;
      await refused(403, 'POST', `/api/v1/operations/${op.id}/cancel`, await token({ role: 'viewer' }));
      await refused(
        403,
        'POST',
        `/api/v1/operations/${op.id}/cancel`,
        await token({ role: 'operator', clusters: [toClusterName('prod')] }),
      );
      await refused(
        404,
        'POST',
        `/api/v1/operations/dev.00000000-0000-4000-8000-000000000000/cancel`,
        operator,
      );
      await refused(404, 'POST', `/api/v1/operations/nonsense/cancel`, operator);
      const res = await call('POST', `/api/v1/operations/${op.id}/cancel`, operator);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const cancelled = OperationSchema.parse(res.body);
      expect(cancelled).toMatchObject({
        state: 'cancelled',
        cancelledBy: 'olga',
        progress: { done: 2, total: 2 },
      });
      expect(cancelled.results.map((r) => [r.node, r.status])).toEqual([
        ['n-1', 'cancelled'],
        ['n-3', 'cancelled'],
      ]);
      await waitFor(() => progress.of(op.id).some((e) => e.state === 'cancelled'), {
        timeout: 10_000,
        what: 'operation_progress cancelled',
      });
      const again = await refused(409, 'POST', `/api/v1/operations/${op.id}/cancel`, operator);
      expect(again.message).toBe(
        `operation "${op.id}" has already finished (cancelled): there is nothing to cancel`,
      );
      const audit = AuditResponseSchema.parse(
        (await call('GET', '/api/v1/audit?action=drain', operator)).body,
      );
      expect(audit.items.map((r) => [r.operationId, r.state, r.cancelledBy])).toEqual([
        [op.id, 'cancelled', 'olga'],
      ]);
      const next = await call('POST', '/api/v1/clusters/dev/operations', operator, {
        action: 'uncordon',
        nodes: ['n-1'],
      });
      expect(next.status, JSON.stringify(next.body)).toBe(202);
    } finally {
      socket.disconnect();
    }
  });

  it('dry run answers 200 with what would change and changes nothing', async () => {
    const res = await call('POST', '/api/v1/clusters/dev/operations', operator, {
      action: 'cordon',
      nodes: ['n-1', 'n-2'],
      dryRun: true,
      reason: 'r',
    });
    expect(res.status).toBe(200);
    const dry = DryRunResponseSchema.parse(res.body);
    expect(dry.changes.map((c) => [c.node, c.changed])).toEqual([
      ['n-1', true],
      ['n-2', true], // cordoned already, but without knm's annotations
    ]);
    const taint = DryRunResponseSchema.parse(
      (
        await call('POST', '/api/v1/clusters/dev/operations', operator, {
          action: 'taint',
          nodes: ['n-1', 'n-3'],
          params: { taints: [{ key: 'gpu', effect: 'NoSchedule' }] },
          dryRun: true,
        })
      ).body,
    );
    expect(taint.changes.map((c) => [c.node, c.changed, c.summary])).toEqual([
      ['n-1', true, '+gpu:NoSchedule'],
      ['n-3', false, 'taints already present'],
    ]);
    expect(await redis.client.exists(`${redis.namespace}:{dev}:opx`)).toBe(0);
  });

  it('answers 404 for an unknown cluster and 401 without a token (403s: security.test.ts)', async () => {
    const body = { action: 'cordon', nodes: ['n-1'] };
    const admin = await token({ role: 'admin', clusters: '*' });
    expect((await refused(404, 'POST', '/api/v1/clusters/nope/operations', admin, body)).message).toBe(
      'cluster "nope" is not registered',
    );
    await refused(401, 'POST', '/api/v1/clusters/dev/operations', null, body);
  });

  it('400 names each bad field; 404 names the unknown nodes', async () => {
    const bad = await refused(400, 'POST', '/api/v1/clusters/dev/operations', operator, {
      action: 'label',
      nodes: ['n-1'],
      params: { labels: { 'bad key': 'ok', good: 'x'.repeat(64) } },
    });
    expect(bad.details?.map((d) => d.path).sort()).toEqual(['params.labels.bad key', 'params.labels.good']);
    const taint = await refused(400, 'POST', '/api/v1/clusters/dev/operations', operator, {
      action: 'taint',
      nodes: ['n-1'],
      params: { taints: [{ key: 'k', effect: 'Never' }] },
    });
    expect(taint.details).toEqual([
      {
        path: 'params.taints.0.effect',
        message: 'effect must be one of NoSchedule, PreferNoSchedule, NoExecute',
      },
    ]);
    const names = await refused(400, 'POST', '/api/v1/clusters/dev/operations', operator, {
      action: 'cordon',
      nodes: ['N_1'],
    });
    expect(names.details?.[0]?.path).toBe('nodes.0');
    const unknown = await refused(404, 'POST', '/api/v1/clusters/dev/operations', operator, {
      action: 'cordon',
      nodes: ['n-1', 'ghost-1', 'ghost-2'],
    });
    expect(unknown.message).toBe('nodes: cluster "dev" has no node "ghost-1", "ghost-2"');
  });

  it('operation ids outside the token are 403, unknown ones 404', async () => {
    await refused(404, 'GET', '/api/v1/operations/not-an-id', operator);
    await refused(404, 'GET', '/api/v1/operations/dev.00000000-0000-4000-8000-000000000000', operator);
    await refused(403, 'GET', '/api/v1/operations/prod.00000000-0000-4000-8000-000000000000', operator);
  });

  it('audit filters by cluster, user, action and time, and only shows clusters the token covers', async () => {
    const audit = new AuditLog(redis.client, redis.keyspace);
    const base = {
      id: 'x',
      nodes: ['n-1'],
      state: 'completed' as const,
      progress: { done: 1, total: 1 },
      results: [{ node: 'n-1', status: 'succeeded' as const }],
      createdAt: '2026-11-22T10:00:00.000Z',
    };
    const mk = (cluster: 'dev' | 'prod', user: string, action: 'cordon' | 'uncordon', n: number) =>
      auditRecordOf(
        {
          ...base,
          id: `${cluster}.00000000-0000-4000-8000-00000000000${n}`,
          cluster,
          action,
          params: {},
          createdBy: user,
        } as never,
        new Date().toISOString(),
      );
    await audit.append(mk('dev', 'olga', 'cordon', 1));
    const middle = Date.now();
    await new Promise((r) => setTimeout(r, 5));
    await audit.append(mk('dev', 'ivan', 'uncordon', 2));
    await audit.append(mk('prod', 'olga', 'cordon', 3));
    const items = async (query: string, auth = operator) => {
      const res = await call('GET', `/api/v1/audit${query}`, auth);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return (res.body as { items: { operationId: string }[] }).items.map((i) => i.operationId.slice(-1));
    };
    expect(await items('')).toEqual(['2', '1']); // prod is outside olga's token
    expect(await items('?user=olga')).toEqual(['1']);
    expect(await items('?action=uncordon')).toEqual(['2']);
    expect(await items(`?since=${new Date(middle + 1).toISOString()}`)).toEqual(['2']);
    expect(await items(`?until=${new Date(middle).toISOString()}`)).toEqual(['1']);
    expect(await items('?limit=1')).toEqual(['2']);
    const admin = await token({ role: 'admin', clusters: '*' });
    expect(await items('?user=olga', admin)).toEqual(['3', '1']);
    await refused(403, 'GET', '/api/v1/audit?cluster=prod', operator);
    expect((await refused(400, 'GET', '/api/v1/audit?since=yesterday', operator)).details?.[0]?.path).toBe(
      'since',
    );
  });
});
