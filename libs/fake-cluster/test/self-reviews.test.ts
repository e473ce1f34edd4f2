import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeSim, type KubeSim } from '../src/index.js';
import { grantClusterRole } from '@knm/testing';
import { api } from './support/sim-client.js';

let sim: KubeSim;
beforeAll(async () => {
  sim = await startKubeSim({ nodes: 2, pods: 0, seed: 2, autoRun: false });
});
afterAll(async () => {
  await sim?.close();
});

/** A length-delimited protobuf field. */
function field(number: number, value: Buffer | string): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value) : value;
  return Buffer.concat([Buffer.from([(number << 3) | 2, bytes.length]), bytes]);
}

describe('self reviews (kubectl auth can-i / auth whoami)', () => {
  it('a SelfSubjectAccessReview is allowed and echoes its spec (201)', async () => {
    const spec = { resourceAttributes: { namespace: 'default', verb: 'get', resource: 'pods' } };
    const res = await api(sim, '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      method: 'POST',
      body: { kind: 'SelfSubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', metadata: {}, spec },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      kind: 'SelfSubjectAccessReview',
      apiVersion: 'authorization.k8s.io/v1',
      spec,
      status: { allowed: true },
    });
  });

  it('reads a protobuf SelfSubjectAccessReview (what kubectl 1.32+ sends)', async () => {
    const attributes = Buffer.concat([field(1, 'kube-system'), field(2, 'delete'), field(5, 'nodes')]);
    const review = Buffer.concat([field(1, Buffer.alloc(0)), field(2, field(1, attributes))]);
    const typeMeta = Buffer.concat([
      field(1, 'authorization.k8s.io/v1'),
      field(2, 'SelfSubjectAccessReview'),
    ]);
    const body = Buffer.concat([Buffer.from('k8s\0'), field(1, typeMeta), field(2, review)]);
    const res = await fetch(`${sim.url}/apis/authorization.k8s.io/v1/selfsubjectaccessreviews`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${sim.token}`,
        'content-type': 'application/vnd.kubernetes.protobuf',
      },
      body,
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({
      spec: { resourceAttributes: { namespace: 'kube-system', verb: 'delete', resource: 'nodes' } },
      status: { allowed: true },
    });
  });

  it('a SelfSubjectRulesReview lists every rule; a SelfSubjectReview names the user (v1 and v1beta1)', async () => {
    const rules = await api(sim, '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', {
      method: 'POST',
      body: {
        kind: 'SelfSubjectRulesReview',
        apiVersion: 'authorization.k8s.io/v1',
        spec: { namespace: 'x' },
      },
    });
    expect(rules.status).toBe(201);
    expect(rules.body).toMatchObject({
      status: { resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], incomplete: false },
    });
    for (const version of ['v1', 'v1beta1']) {
      const who = await api(sim, `/apis/authentication.k8s.io/${version}/selfsubjectreviews`, {
        method: 'POST',
        body: { kind: 'SelfSubjectReview', apiVersion: `authentication.k8s.io/${version}` },
      });
      expect(who.status).toBe(201);
      expect(who.body).toMatchObject({
        apiVersion: `authentication.k8s.io/${version}`,
        status: {
          userInfo: { username: 'kube-sim-admin', groups: ['system:masters', 'system:authenticated'] },
        },
      });
    }
  });

  it('answers other verbs 405, and asks for the token like every API request', async () => {
    const get = await api(sim, '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews');
    expect(get.status).toBe(405);
    const anonymous = await api(sim, '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
      method: 'POST',
      body: {},
      token: null,
    });
    expect(anonymous.status).toBe(401);
  });

  it('an impersonated requester gets the RBAC decision: allowed with the binding as reason, or denied', async () => {
    await grantClusterRole(sim, {
      role: 'review-node-reader',
      rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['list'] }],
      binding: 'review-readers',
      groups: ['readers'],
    });
    const review = async (verb: string, groups: string[]): Promise<unknown> => {
      const res = await fetch(`${sim.url}/apis/authorization.k8s.io/v1/selfsubjectaccessreviews`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${sim.token}`,
          'content-type': 'application/json',
          'impersonate-user': 'ana',
          ...(groups.length > 0 ? { 'impersonate-group': groups.join(',') } : {}),
        },
        body: JSON.stringify({
          kind: 'SelfSubjectAccessReview',
          apiVersion: 'authorization.k8s.io/v1',
          spec: { resourceAttributes: { verb, resource: 'nodes' } },
        }),
      });
      expect(res.status).toBe(201);
      return ((await res.json()) as { status: unknown }).status;
    };
    expect(await review('list', ['readers'])).toEqual({
      allowed: true,
      reason:
        'RBAC: allowed by ClusterRoleBinding "review-readers" of ClusterRole "review-node-reader" to Group "readers"',
    });
    expect(await review('patch', ['readers'])).toEqual({ allowed: false });
    expect(await review('list', [])).toEqual({ allowed: false });
    const rules = await fetch(`${sim.url}/apis/authorization.k8s.io/v1/selfsubjectrulesreviews`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${sim.token}`,
        'content-type': 'application/json',
        'impersonate-user': 'ana',
        'impersonate-group': 'readers',
      },
      body: JSON.stringify({ kind: 'SelfSubjectRulesReview', spec: { namespace: 'default' } }),
    });
    expect(((await rules.json()) as { status: { resourceRules: unknown[] } }).status.resourceRules).toEqual([
      { verbs: ['list'], apiGroups: [''], resources: ['nodes'] },
    ]);
  });
});
