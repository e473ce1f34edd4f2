import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@knm/testing';
import { blockEvictions, startKubeSim, TruthSchema, type KubeSim, type KubeObject } from '../src/index.js';
import { Kubectl } from './support/kubectl.js';
import { api } from './support/sim-client.js';

// One kube-sim for the file (kubectl runs are slow-ish); every test works on its own node.
let sim: KubeSim;
let kubectl: Kubectl;

beforeAll(async () => {
  sim = await startKubeSim({
    nodes: 24,
    pods: 300,
    seed: 42,
    clusterName: 'kctl',
    kubelet: { startupMs: 100, stopMs: 200 },
  });
  kubectl = new Kubectl(sim.kubeconfig());
});

afterAll(async () => {
  await sim?.close();
  kubectl?.dispose();
});

async function truth() {
  const res = await api(sim, '/_sim/truth');
  return TruthSchema.parse(res.body);
}

function workers(): string[] {
  return sim.cluster.store
    .kind('Node')
    .sorted()
    .map((n) => n.metadata.name)
    .filter((n) => n.includes('-worker-'));
}

// kubectl runs take seconds each on a loaded machine: generous per-test timeouts.
describe('kubectl against kube-sim', { timeout: 120_000 }, () => {
  it('get nodes prints STATUS, ROLES, AGE, VERSION from a server-side Table', async () => {
    const out = await kubectl.ok(['get', 'nodes']);
    const lines = out.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION$/);
    expect(lines).toHaveLength(1 + 24);
    const cp = lines.find((l) => l.startsWith('kctl-control-plane-1 '));
    expect(cp).toMatch(/^kctl-control-plane-1\s+Ready\s+control-plane\s+\d+[dhm]\w*\s+v1\.32\.\d+$/);
  });

  it('get nodes -o wide adds INTERNAL-IP, EXTERNAL-IP, OS-IMAGE, KERNEL-VERSION, CONTAINER-RUNTIME with the node values', async () => {
    const out = await kubectl.ok(['get', 'nodes', '-o', 'wide']);
    const [header, ...rows] = out.trim().split('\n');
    expect(header).toMatch(
      /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\s+INTERNAL-IP\s+EXTERNAL-IP\s+OS-IMAGE\s+KERNEL-VERSION\s+CONTAINER-RUNTIME$/,
    );
    const name = workers()[0] as string;
    const node = sim.cluster.store.get('Node', name) as KubeObject;
    const info = node.status?.['nodeInfo'] as Record<string, string>;
    const addresses = node.status?.['addresses'] as { type: string; address: string }[];
    const ip = addresses.find((a) => a.type === 'InternalIP')?.address;
    const row = rows.find((r) => r.startsWith(`${name} `)) as string;
    expect(row).toContain(` ${ip} `);
    expect(row).toContain(info['osImage']);
    expect(row).toContain(info['kernelVersion']);
    expect(row.trim().endsWith(info['containerRuntimeVersion'] as string)).toBe(true);
  });

  it('get node X -o json returns the stored node with kind and apiVersion', async () => {
    const name = workers()[1] as string;
    const node = JSON.parse(await kubectl.ok(['get', 'node', name, '-o', 'json'])) as KubeObject;
    expect(node.kind).toBe('Node');
    expect(node.apiVersion).toBe('v1');
    expect(node.metadata.name).toBe(name);
    expect(node.metadata.resourceVersion).toBe(sim.cluster.store.get('Node', name)?.metadata.resourceVersion);
  });

  it('label adds, refuses to overwrite without --overwrite, overwrites, and removes; truth follows', async () => {
    const name = workers()[2] as string;
    expect(await kubectl.ok(['label', 'node', name, 'env=prod'])).toContain('labeled');
    expect((await truth()).nodes[name]?.labels['env']).toBe('prod');
    const refused = await kubectl.run(['label', 'node', name, 'env=dev']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("'env' already has a value (prod)");
    await kubectl.ok(['label', 'node', name, 'env=dev', '--overwrite']);
    expect((await truth()).nodes[name]?.labels['env']).toBe('dev');
    expect(await kubectl.ok(['label', 'node', name, 'env-'])).toContain('unlabeled');
    expect((await truth()).nodes[name]?.labels).not.toHaveProperty('env');
  });

  it('taint adds and removes (the whole list is replaced atomically); truth follows', async () => {
    const name = workers()[3] as string;
    await kubectl.ok(['taint', 'node', name, 'dedicated=gpu:NoSchedule']);
    await kubectl.ok(['taint', 'node', name, 'maint=true:NoExecute']);
    let taints = (await truth()).nodes[name]?.taints ?? [];
    expect(taints.map((t) => `${t.key}=${t.value}:${t.effect}`).sort()).toEqual([
      'dedicated=gpu:NoSchedule',
      'maint=true:NoExecute',
    ]);
    await kubectl.ok(['taint', 'node', name, 'dedicated=gpu:NoSchedule-']);
    taints = (await truth()).nodes[name]?.taints ?? [];
    expect(taints.map((t) => t.key)).toEqual(['maint']);
    await kubectl.ok(['taint', 'node', name, 'maint-']);
    expect((await truth()).nodes[name]?.taints).toEqual([]);
    expect(sim.cluster.store.get('Node', name)?.spec).not.toHaveProperty('taints');
  });

  it('cordon and uncordon toggle spec.unschedulable; get nodes shows SchedulingDisabled', async () => {
    const name = workers()[4] as string;
    expect(await kubectl.ok(['cordon', name])).toContain('cordoned');
    expect((await truth()).nodes[name]?.unschedulable).toBe(true);
    expect(await kubectl.ok(['get', 'node', name])).toMatch(
      new RegExp(`${name}\\s+Ready,SchedulingDisabled`),
    );
    expect(await kubectl.ok(['uncordon', name])).toContain('uncordoned');
    expect((await truth()).nodes[name]?.unschedulable).toBe(false);
    expect(sim.cluster.store.get('Node', name)?.spec).not.toHaveProperty('unschedulable');
  });

  it("get pods -A --field-selector spec.nodeName=X lists exactly that node's pods", async () => {
    const name = workers()[5] as string;
    const out = await kubectl.ok([
      'get',
      'pods',
      '-A',
      '--field-selector',
      `spec.nodeName=${name}`,
      '--no-headers',
    ]);
    const rows = out.trim().split('\n').filter(Boolean);
    const expected = [...sim.cluster.store.kind('Pod').values()].filter((p) => p.spec?.['nodeName'] === name);
    expect(rows).toHaveLength(expected.length);
    expect(rows.map((r) => r.split(/\s+/)[1]).sort()).toEqual(expected.map((p) => p.metadata.name).sort());
  });

  it('drain --ignore-daemonsets --delete-emptydir-data evicts until only DaemonSet pods remain; replacements land elsewhere', async () => {
    const name = workers()[6] as string;
    const before = (await truth()).podCounts[name] ?? 0;
    const pods = [...sim.cluster.store.kind('Pod').values()].filter((p) => p.spec?.['nodeName'] === name);
    const daemon = pods.filter((p) => p.metadata.ownerReferences?.some((o) => o.kind === 'DaemonSet'));
    expect(pods.length).toBeGreaterThan(daemon.length);
    const out = await kubectl.run(
      ['drain', name, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=90s'],
      120_000,
    );
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain(`node/${name} drained`);
    const remaining = [...sim.cluster.store.kind('Pod').values()].filter(
      (p) => p.spec?.['nodeName'] === name,
    );
    expect(
      remaining.every((p) =>
        p.metadata.ownerReferences?.some((o) => o.kind === 'DaemonSet' || o.kind === 'Node'),
      ),
    ).toBe(true);
    const t = await truth();
    expect(t.nodes[name]?.unschedulable).toBe(true);
    expect(t.podCounts[name] ?? 0).toBe(
      remaining.filter((p) => !['Succeeded', 'Failed'].includes(String(p.status?.['phase']))).length,
    );
    expect(before).toBeGreaterThan(t.podCounts[name] ?? 0);
    await kubectl.ok(['uncordon', name]);
  });

  it('drain is retried while a PodDisruptionBudget forbids an eviction (429), then completes', async () => {
    const name = workers()[7] as string;
    // A two-replica app entirely on this node with minAvailable 1: the first eviction passes, the second
    // answers 429 until the first one's replacement runs elsewhere; kubectl retries it every 5 s.
    const guarded = blockEvictions(sim, name);
    await waitFor(
      () => guarded.every((k) => sim.cluster.store.get('Pod', k)?.status?.['phase'] === 'Running'),
      {
        timeout: 20_000,
        what: 'guarded pods running',
      },
    );
    // Replacements can only run on nodes labelled guarded=yes: none until the first 429 was answered.
    const draining = kubectl.run(
      ['drain', name, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=100s'],
      120_000,
    );
    await waitFor(() => sim.server.stats().evictionsRejected > 0, {
      timeout: 60_000,
      what: 'an eviction refused with 429',
    });
    const target = workers()[8] as string;
    await kubectl.ok(['label', 'node', target, 'guarded=yes']);
    const out = await draining;
    expect(out.code, out.stderr).toBe(0);
    expect(out.stderr + out.stdout).toMatch(
      /Cannot evict pod as it would violate the pod's disruption budget/,
    );
    expect(sim.server.stats().evictionsRejected).toBeGreaterThan(0);
    expect(sim.cluster.store.get('Pod', 'default/guarded-1')).toBeUndefined();
    expect(sim.cluster.store.get('Pod', 'default/guarded-2')).toBeUndefined();
    const replacements = [...sim.cluster.store.kind('Pod').values()].filter(
      (p) => p.metadata.labels?.['app'] === 'guarded',
    );
    expect(replacements).toHaveLength(2);
    expect(replacements.map((p) => p.spec?.['nodeName'])).toEqual([target, target]);
    await kubectl.ok(['uncordon', name]);
  }, 150_000);

  it('get nodes -w prints a change, then exits 0 when the server ends the stream', async () => {
    const name = workers()[9] as string;
    const child = spawn(
      'kubectl',
      [
        '--kubeconfig',
        kubectl.kubeconfigPath,
        '--cache-dir',
        join(kubectl.dir, 'cache'),
        'get',
        'nodes',
        '-w',
        '--request-timeout=60s',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      await waitFor(() => stdout.trim().split('\n').length >= 25, {
        timeout: 20_000,
        what: 'initial list printed',
      });
      const initialLines = stdout.trim().split('\n').length;
      await api(sim, `/api/v1/nodes/${name}`, {
        method: 'PATCH',
        contentType: 'application/strategic-merge-patch+json',
        body: { spec: { unschedulable: true } },
      });
      await waitFor(() => stdout.trim().split('\n').length > initialLines, {
        timeout: 20_000,
        what: 'watch line printed',
      });
      const last = stdout.trim().split('\n').pop() as string;
      expect(last).toMatch(new RegExp(`^${name}\\s+Ready,SchedulingDisabled`));
      sim.hub.dropAll('end');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('create namespace (a protobuf body) and run a pod in it, then delete the namespace', async () => {
    expect(await kubectl.ok(['create', 'namespace', 'demo'])).toContain('namespace/demo created');
    expect(await kubectl.ok(['get', 'ns', 'demo', '--show-labels'])).toMatch(
      /demo\s+Active\s+\S+\s+kubernetes\.io\/metadata\.name=demo/,
    );
    expect(await kubectl.ok(['run', 'web', '--image=nginx', '-n', 'demo'])).toContain('pod/web created');
    await waitFor(() => sim.cluster.store.get('Pod', 'demo/web')?.status?.['phase'] === 'Running', {
      what: 'pod running',
    });
    expect(await kubectl.ok(['delete', 'namespace', 'demo'])).toContain('namespace "demo" deleted');
    expect(sim.cluster.store.get('Namespace', 'demo')).toBeUndefined();
    expect(sim.cluster.store.get('Pod', 'demo/web')).toBeUndefined();
  });

  it('explain reads the OpenAPI v3 schema; apply validates on the server; replace of a YAML round trip is a no-op', async () => {
    expect(await kubectl.ok(['explain', 'node.spec'])).toMatch(/unschedulable\s+<boolean>/);
    const good = join(kubectl.dir, 'ns.yaml');
    writeFileSync(good, 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: applied\n');
    expect(await kubectl.ok(['apply', '-f', good])).toContain('namespace/applied created');
    const bad = join(kubectl.dir, 'bad.yaml');
    writeFileSync(
      bad,
      'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: applied\nspec:\n  finalisers: []\n',
    );
    const refused = await kubectl.run(['apply', '-f', bad]);
    expect(refused.stderr).toContain('strict decoding error: unknown field "spec.finalisers"');
    const name = workers()[11] as string;
    const yaml = join(kubectl.dir, 'node.yaml');
    writeFileSync(yaml, await kubectl.ok(['get', 'node', name, '-o', 'yaml']));
    const before = sim.cluster.store.get('Node', name)?.metadata.resourceVersion;
    expect(await kubectl.ok(['replace', '-f', yaml])).toContain(`node/${name} replaced`);
    expect(sim.cluster.store.get('Node', name)?.metadata.resourceVersion).toBe(before);
  });

  it('delete node removes it (and its pods are collected); truth follows', async () => {
    const name = workers()[10] as string;
    expect(await kubectl.ok(['delete', 'node', name])).toContain(`node "${name}" deleted`);
    const t = await waitFor(
      async () => {
        const now = await truth();
        return now.nodes[name] === undefined && now.podCounts[name] === undefined ? now : undefined;
      },
      { timeout: 10_000, what: 'node and its pods gone from truth' },
    );
    expect(Object.keys(t.nodes)).not.toContain(name);
    const gone = await kubectl.run(['get', 'node', name]);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toContain(`Error from server (NotFound): nodes "${name}" not found`);
  });
});
