/**
 * `@kubernetes/client-node`'s own informer (makeInformer: list, then watch from the
 * list's resourceVersion) against a kube-sim over HTTP, configured only from the
 * kubeconfig kube-sim writes: it must list, see adds/updates/deletes made through
 * the API, follow label-selector transitions, relist after a 410 (compacted change
 * log) and carry on after every watch is dropped (cleanly or by connection reset).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CoreV1Api,
  KubeConfig,
  makeInformer,
  type Informer,
  type KubernetesObject,
  type ObjectCache,
  type V1Node,
  type V1Pod,
} from '@kubernetes/client-node';
import { waitFor } from '@knm/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startKubeSim, type KubeSim } from '../src/index.js';

type Recorded = { type: 'add' | 'update' | 'delete'; name: string; rv: string };

/** An informer plus everything it reported, and how many times it listed. */
interface Watched<T extends KubernetesObject> {
  informer: Informer<T> & ObjectCache<T>;
  events: Recorded[];
  lists: () => number;
  errors: unknown[];
  names: () => string[];
}

let sim: KubeSim;
let dir: string;
let kc: KubeConfig;
let core: CoreV1Api;
const informers: Informer<KubernetesObject>[] = [];

function watch<T extends KubernetesObject>(
  path: string,
  list: () => Promise<{ items: T[] }>,
  labelSelector?: string,
): Watched<T> {
  let lists = 0;
  const informer = makeInformer<T>(
    kc,
    path,
    async () => {
      lists++;
      return (await list()) as never;
    },
    labelSelector,
  );
  const events: Recorded[] = [];
  const errors: unknown[] = [];
  const record = (type: Recorded['type']) => (obj: T) =>
    events.push({ type, name: obj.metadata?.name ?? '', rv: obj.metadata?.resourceVersion ?? '' });
  informer.on('add', record('add'));
  informer.on('update', record('update'));
  informer.on('delete', record('delete'));
  // The documented client-node pattern: an informer stops on a watch error; restart it.
  informer.on('error', (err: unknown) => {
    errors.push(err);
    setTimeout(() => void informer.start().catch(() => undefined), 200);
  });
  informers.push(informer as unknown as Informer<KubernetesObject>);
  return {
    informer,
    events,
    lists: () => lists,
    errors,
    names: () =>
      informer
        .list()
        .map((o) => o.metadata?.name ?? '')
        .sort(),
  };
}

async function faults(body: object): Promise<void> {
  const res = await fetch(`${sim.url}/_sim/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${sim.token}` },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
}

const truthNodes = () => Object.keys(sim.truth().nodes).sort();

function newNode(name: string, labels: Record<string, string> = {}): V1Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } },
    spec: {},
  };
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'knm-informer-'));
  sim = await startKubeSim({
    nodes: 6,
    pods: 60,
    seed: 11,
    clusterName: 'informer',
    kubeconfigOut: join(dir, 'kubeconfig'),
  });
  kc = new KubeConfig();
  kc.loadFromFile(join(dir, 'kubeconfig'));
  core = kc.makeApiClient(CoreV1Api);
});

afterEach(async () => {
  await Promise.all(informers.splice(0).map((i) => i.stop()));
  await sim.close();
  await rm(dir, { recursive: true, force: true });
});

// Each waitFor below may take up to 30 s on a loaded machine; the test's budget covers several.
describe('client-node informer against kube-sim', { timeout: 120_000 }, () => {
  it('lists nodes and pods, then sees adds, updates and deletes made through the API', async () => {
    const nodes = watch<V1Node>('/api/v1/nodes', () => core.listNode());
    const pods = watch<V1Pod>('/api/v1/pods', () => core.listPodForAllNamespaces());
    await nodes.informer.start();
    await pods.informer.start();

    expect(nodes.names()).toEqual(truthNodes());
    expect(nodes.names()).toHaveLength(6);
    await waitFor(() => pods.informer.list().length === sim.cluster.store.kind('Pod').size, {
      what: 'every pod listed',
    });
    expect(pods.informer.list().length).toBeGreaterThan(0);
    expect(nodes.lists()).toBe(1);

    // add
    await core.createNode({ body: newNode('informer-extra-1') });
    await waitFor(() => nodes.events.some((e) => e.type === 'add' && e.name === 'informer-extra-1'), {
      what: 'the add',
      timeout: 20_000,
    });
    expect(nodes.informer.get('informer-extra-1')?.metadata?.labels?.['kubernetes.io/hostname']).toBe(
      'informer-extra-1',
    );

    // update (PUT of the object read back)
    const current = await core.readNode({ name: 'informer-extra-1' });
    current.metadata = { ...current.metadata, labels: { ...current.metadata?.labels, env: 'prod' } };
    const updated = await core.replaceNode({ name: 'informer-extra-1', body: current });
    await waitFor(() => nodes.informer.get('informer-extra-1')?.metadata?.labels?.['env'] === 'prod', {
      what: 'the update',
      timeout: 20_000,
    });
    const update = nodes.events.find((e) => e.type === 'update' && e.name === 'informer-extra-1');
    expect(update?.rv).toBe(updated.metadata?.resourceVersion);

    // delete
    await core.deleteNode({ name: 'informer-extra-1' });
    await waitFor(() => nodes.events.some((e) => e.type === 'delete' && e.name === 'informer-extra-1'), {
      what: 'the delete',
      timeout: 20_000,
    });
    expect(nodes.informer.get('informer-extra-1')).toBeUndefined();
    expect(nodes.names()).toEqual(truthNodes());

    // a pod created and deleted through the API
    const nodeName = truthNodes()[1] ?? '';
    await core.createNamespacedPod({
      namespace: 'default',
      body: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'informer-pod' },
        spec: { nodeName, containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }] },
      },
    });
    await waitFor(() => pods.informer.get('informer-pod', 'default'), {
      what: 'the pod add',
      timeout: 20_000,
    });
    await core.deleteNamespacedPod({ name: 'informer-pod', namespace: 'default', gracePeriodSeconds: 0 });
    await waitFor(() => pods.events.some((e) => e.type === 'delete' && e.name === 'informer-pod'), {
      what: 'the pod delete',
      timeout: 30_000,
    });
    expect(pods.informer.get('informer-pod', 'default')).toBeUndefined();
    expect(nodes.errors).toEqual([]);
    expect(pods.errors).toEqual([]);
  });

  it('follows label-selector transitions: a node that starts matching is added, one that stops is deleted', async () => {
    const prod = watch<V1Node>(
      '/api/v1/nodes',
      () => core.listNode({ labelSelector: 'env=prod' }),
      'env=prod',
    );
    await prod.informer.start();
    expect(prod.names()).toEqual([]);
    const name = truthNodes()[2] ?? '';

    const label = async (value: string | null) => {
      const node = await core.readNode({ name });
      const labels = { ...node.metadata?.labels };
      if (value === null) delete labels['env'];
      else labels['env'] = value;
      node.metadata = { ...node.metadata, labels };
      await core.replaceNode({ name, body: node });
    };

    await label('prod');
    await waitFor(() => prod.names().includes(name), { what: 'the node to start matching', timeout: 20_000 });
    expect(prod.events.filter((e) => e.name === name).map((e) => e.type)).toEqual(['add']);

    await label('dev');
    await waitFor(() => !prod.names().includes(name), { what: 'the node to stop matching', timeout: 20_000 });
    expect(prod.events.filter((e) => e.name === name).map((e) => e.type)).toEqual(['add', 'delete']);
    expect(prod.lists()).toBe(1);
  });

  it('relists after a 410 (change log compacted while it was not watching) and catches up', async () => {
    const nodes = watch<V1Node>('/api/v1/nodes', () => core.listNode());
    await nodes.informer.start();
    expect(nodes.lists()).toBe(1);

    // The informer stops hearing anything; a node is added and another deleted meanwhile.
    await faults({ stallWatches: true });
    const before = nodes.events.length;
    const victim = truthNodes()[3] ?? '';
    await core.createNode({ body: newNode('during-stall') });
    await core.deleteNode({ name: victim });
    expect(nodes.informer.get('during-stall')).toBeUndefined();

    // Compact the change log, then end the stalled watches: the informer re-watches from
    // its old resourceVersion, gets the 410, and must relist.
    await faults({ compact: true, stallWatches: false });
    await waitFor(() => nodes.lists() >= 2, { what: 'a relist after the 410', timeout: 30_000 });
    await waitFor(
      () => nodes.informer.get('during-stall') !== undefined && nodes.informer.get(victim) === undefined,
      {
        what: 'the informer to catch up',
        timeout: 30_000,
      },
    );
    expect(nodes.names()).toEqual(truthNodes());
    expect(
      nodes.events
        .slice(before)
        .filter((e) => e.name === 'during-stall' || e.name === victim)
        .map((e) => `${e.type} ${e.name}`)
        .sort(),
    ).toEqual([`add during-stall`, `delete ${victim}`].sort());

    // And it keeps watching afterwards.
    await core.createNode({ body: newNode('after-relist') });
    await waitFor(() => nodes.informer.get('after-relist'), {
      what: 'a change after the relist',
      timeout: 20_000,
    });
  });

  it.each([
    ['ended cleanly', { dropWatches: true }],
    ['reset', { resetWatches: true }],
  ])('carries on after every watch is %s', async (_how, fault) => {
    const nodes = watch<V1Node>('/api/v1/nodes', () => core.listNode());
    const pods = watch<V1Pod>('/api/v1/pods', () => core.listPodForAllNamespaces());
    await nodes.informer.start();
    await pods.informer.start();
    let connects = 0;
    nodes.informer.on('connect', () => connects++);

    await faults(fault);
    await waitFor(() => connects >= 1, { what: 'the informer to watch again', timeout: 20_000 });

    await core.createNode({ body: newNode('after-drop') });
    await waitFor(() => nodes.informer.get('after-drop'), {
      what: 'a change after the drop',
      timeout: 20_000,
    });
    const nodeName = truthNodes()[0] ?? '';
    await core.createNamespacedPod({
      namespace: 'default',
      body: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'after-drop' },
        spec: { nodeName, containers: [{ name: 'c', image: 'x' }] },
      },
    });
    await waitFor(() => pods.informer.get('after-drop', 'default'), {
      what: 'a pod change after the drop',
      timeout: 20_000,
    });
    expect(nodes.names()).toEqual(truthNodes());
    await waitFor(() => pods.informer.list().length === sim.cluster.store.kind('Pod').size, {
      what: 'every pod in the cache',
    });
  });
});
