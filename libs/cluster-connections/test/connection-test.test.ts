/**
 * Testing a kubeconfig before it is registered, against a real kube-sim over HTTP(S):
 * what works, and each reason it does not (invalid, unreachable, TLS, authentication,
 * a missing permission decided by kube-sim's RBAC through SelfSubjectAccessReview).
 * No result ever carries the credential.
 */
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeSim, type KubeSim } from '@knm/fake-cluster';
import { freePort, grantClusterRole } from '@knm/testing';
import { testClusterConnection, type ConnectionTestOutcome } from '../src/index.js';

interface Kubeconfig {
  clusters: { name: string; cluster: Record<string, unknown> }[];
  users: { name: string; user: Record<string, unknown> }[];
  contexts: { name: string; context: Record<string, unknown> }[];
  'current-context': string;
}

let sim: KubeSim;
let dir: string;
const none: ReadonlySet<string> = new Set();

/** kube-sim's kubeconfig (https, its CA, its token) changed by `edit`. */
function kubeconfig(edit: (kc: Kubeconfig) => void = () => {}): string {
  const kc = JSON.parse(sim.kubeconfig()) as Kubeconfig;
  edit(kc);
  return JSON.stringify(kc);
}

function expectNoSecret(outcome: ConnectionTestOutcome, ...secrets: string[]): void {
  const text = JSON.stringify(outcome.result);
  for (const secret of [sim.token, ...secrets]) expect(text).not.toContain(secret);
}

beforeAll(async () => {
  sim = await startKubeSim({ nodes: 3, pods: 5, seed: 3 });
  dir = await mkdtemp(join(tmpdir(), 'knm-connection-test-'));
  // Every authenticated user may do what the watcher needs, except patch nodes.
  await grantClusterRole(sim, {
    role: 'watcher-without-patch',
    rules: [
      { apiGroups: [''], resources: ['nodes', 'pods'], verbs: ['list', 'watch'] },
      { apiGroups: [''], resources: ['pods/eviction'], verbs: ['create'] },
    ],
    binding: 'authenticated-watch',
    groups: ['system:authenticated'],
  });
});

afterAll(async () => {
  await sim?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('testClusterConnection', () => {
  it('passes every check with working credentials and keeps only the selected context', async () => {
    const outcome = await testClusterConnection(kubeconfig(), { execAllowlist: none });
    expect(outcome.result).toMatchObject({ ok: true, server: sim.httpsUrl, context: 'kube-sim' });
    expect(outcome.result.checks.map((c) => [c.name, c.ok])).toEqual([
      ['kubeconfig', true],
      ['reach', true],
      ['authenticate', true],
      ['list-nodes', true],
      ['nodes/list', true],
      ['nodes/watch', true],
      ['nodes/patch', true],
      ['pods/list', true],
      ['pods/watch', true],
      ['pods/eviction/create', true],
    ]);
    expect(outcome.accepted?.kubeconfig).toContain(sim.token);
    expectNoSecret(outcome);
  });

  it('names the permission a user lacks (RBAC through SelfSubjectAccessReview)', async () => {
    const outcome = await testClusterConnection(
      kubeconfig((kc) => {
        kc.users[0]!.user['as'] = 'limited@example.com';
      }),
      { execAllowlist: none },
    );
    expect(outcome.result.ok).toBe(false);
    expect(outcome.result.failure).toMatchObject({ kind: 'permission', check: 'nodes/patch' });
    expect(outcome.result.failure?.message).toContain('patch nodes');
    expect(outcome.result.checks.find((c) => c.name === 'nodes/list')).toMatchObject({
      ok: true,
      detail: expect.stringContaining('ClusterRoleBinding "authenticated-watch"'),
    });
    expect(outcome.result.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['nodes/patch']);
    expectNoSecret(outcome);
  });

  it('says the credentials were refused (401)', async () => {
    const wrong = 'wrong-token-0123456789abcdef';
    const outcome = await testClusterConnection(
      kubeconfig((kc) => {
        kc.users[0]!.user['token'] = wrong;
      }),
      { execAllowlist: none },
    );
    expect(outcome.result.failure).toMatchObject({ kind: 'authentication', check: 'authenticate' });
    expect(outcome.result.failure?.message).toContain('401');
    expectNoSecret(outcome, wrong);
  });

  it('says nothing listens on a closed port', async () => {
    const port = await freePort();
    const outcome = await testClusterConnection(
      kubeconfig((kc) => {
        kc.clusters[0]!.cluster['server'] = `https://127.0.0.1:${port}`;
      }),
      { execAllowlist: none },
    );
    expect(outcome.result.failure).toMatchObject({ kind: 'unreachable', check: 'reach' });
    expect(outcome.result.failure?.message).toContain('refused the connection');
    expectNoSecret(outcome);
  });

  it('says TLS failed for an untrusted certificate and for a server that does not speak TLS', async () => {
    const untrusted = await testClusterConnection(
      kubeconfig((kc) => {
        delete kc.clusters[0]!.cluster['certificate-authority-data'];
      }),
      { execAllowlist: none },
    );
    expect(untrusted.result.failure).toMatchObject({ kind: 'tls', check: 'reach' });
    expect(untrusted.result.failure?.message).toMatch(/certificate/);
    const plain = await testClusterConnection(
      kubeconfig((kc) => {
        kc.clusters[0]!.cluster['server'] = sim.url.replace('http:', 'https:');
      }),
      { execAllowlist: none },
    );
    expect(plain.result.failure).toMatchObject({ kind: 'tls', check: 'reach' });
    expectNoSecret(untrusted);
    expectNoSecret(plain);
  });

  it('refuses an exec plugin unless its command is allowed, and uses it when it is', async () => {
    const script = join(dir, 'credential.mjs');
    await writeFile(
      script,
      `process.stdout.write(JSON.stringify({apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: {token: ${JSON.stringify(sim.token)}}}));\n`,
    );
    const text = kubeconfig((kc) => {
      kc.users[0]!.user = {
        exec: {
          apiVersion: 'client.authentication.k8s.io/v1',
          command: process.execPath,
          args: [script],
          interactiveMode: 'Never',
        },
      };
    });
    const refused = await testClusterConnection(text, { execAllowlist: none });
    expect(refused.result.failure).toMatchObject({ kind: 'invalid', check: 'kubeconfig' });
    expect(refused.result.failure?.message).toContain('KNM_EXEC_ALLOWLIST');
    expect(refused.result.checks).toHaveLength(1);
    const allowed = await testClusterConnection(text, { execAllowlist: new Set([process.execPath]) });
    expect(allowed.result).toMatchObject({ ok: true });
    expectNoSecret(allowed);
    // An allowed command steered into another program (a preload, NODE_OPTIONS) is refused.
    const steered = await testClusterConnection(
      kubeconfig((kc) => {
        kc.users[0]!.user = {
          exec: {
            apiVersion: 'client.authentication.k8s.io/v1',
            command: process.execPath,
            args: [script],
            env: [{ name: 'NODE_OPTIONS', value: '--require /tmp/evil.js' }],
          },
        };
      }),
      { execAllowlist: new Set([process.execPath]) },
    );
    expect(steered.result.failure).toMatchObject({ kind: 'invalid' });
    expect(steered.result.failure?.message).toContain('sets NODE_OPTIONS');
  });

  it('refuses file references, an unknown context and text that is not a kubeconfig', async () => {
    const files = await testClusterConnection(
      kubeconfig((kc) => {
        kc.clusters[0]!.cluster['certificate-authority'] = '/etc/ssl/certs/ca-certificates.crt';
        kc.users[0]!.user = { 'token-file': '/etc/hostname' };
      }),
      { execAllowlist: none },
    );
    expect(files.result.failure).toMatchObject({ kind: 'invalid' });
    expect(files.result.failure?.message).toContain('self-contained');
    expect(files.result.failure?.message).toContain('certificate-authority (use certificate-authority-data)');
    expect(files.result.failure?.message).toContain('token-file');

    const context = await testClusterConnection(kubeconfig(), { execAllowlist: none, context: 'prod' });
    expect(context.result.failure?.message).toBe('the kubeconfig has no context "prod": it has "kube-sim"');

    const garbage = await testClusterConnection('clusters: [unclosed', { execAllowlist: none });
    expect(garbage.result.failure).toMatchObject({ kind: 'invalid', check: 'kubeconfig' });
    const provider = await testClusterConnection(
      kubeconfig((kc) => {
        kc.users[0]!.user = { 'auth-provider': { name: 'gcp', config: { 'cmd-path': '/bin/sh' } } };
      }),
      { execAllowlist: none },
    );
    expect(provider.result.failure?.message).toContain('auth-provider "gcp"');
  });
});
