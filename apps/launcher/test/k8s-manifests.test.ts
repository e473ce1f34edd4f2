import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { WORKSPACE_ROOT } from '@knm/testing';

const run = promisify(execFile);

/** A rendered Kubernetes object (only what the assertions read is typed). */
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [key: string]: unknown;
}
interface Container {
  name: string;
  image: string;
  command?: string[];
  env?: {
    name: string;
    value?: string;
    valueFrom?: {
      secretKeyRef?: { name: string; key?: string };
      configMapKeyRef?: { name: string };
      fieldRef?: { fieldPath: string };
    };
  }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  livenessProbe?: { httpGet?: { path: string } };
  readinessProbe?: { httpGet?: { path: string } };
  startupProbe?: { httpGet?: { path: string } };
  securityContext?: {
    runAsNonRoot?: boolean;
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[] };
  };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; seccompProfile?: { type: string } };
  containers: Container[];
  volumes?: { name: string; secret?: { secretName: string }; configMap?: { name: string } }[];
}
interface Deployment extends K8sObject {
  spec: {
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
}

const OVERLAYS = ['k8s/overlays/dev', 'k8s/overlays/prod', 'k8s/remote-cluster'];

async function render(dir: string): Promise<K8sObject[]> {
  const { stdout } = await run('kubectl', ['kustomize', join(WORKSPACE_ROOT, dir)], { timeout: 60_000 });
  return parseAllDocuments(stdout).map((d) => d.toJS() as K8sObject);
}

/** Validates `obj` against the Kubernetes JSON schema of its apiVersion/kind (kubernetes-models); throws when invalid or unknown. */
async function validate(obj: K8sObject): Promise<void> {
  const path = obj.apiVersion.includes('/') ? obj.apiVersion : `v1`;
  const module = (await import(`kubernetes-models/${path}`)) as Record<string, unknown>;
  const Model = module[obj.kind] as (new (data: unknown) => { validate(): void }) | undefined;
  if (!Model) throw new Error(`${obj.apiVersion} ${obj.kind} is not a known Kubernetes kind`);
  new Model(obj).validate();
}

const byKind = <T extends K8sObject = K8sObject>(objs: K8sObject[], kind: string): T[] =>
  objs.filter((o) => o.kind === kind) as T[];
const one = <T extends K8sObject = K8sObject>(objs: K8sObject[], kind: string, name: string): T => {
  const found = objs.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in the render`);
  return found as T;
};
const env = (c: Container, name: string) => c.env?.find((e) => e.name === name);

describe('k8s/ (kustomize)', () => {
  const rendered = new Map<string, K8sObject[]>();
  beforeAll(async () => {
    for (const dir of OVERLAYS) rendered.set(dir, await render(dir));
  }, 180_000);
  const get = (dir: string): K8sObject[] => rendered.get(dir) ?? [];

  it.each(OVERLAYS)(
    '%s renders with kubectl kustomize and every object is valid against the Kubernetes schemas',
    async (dir) => {
      const objs = get(dir);
      expect(objs.length).toBeGreaterThan(3);
      const problems: string[] = [];
      for (const obj of objs) {
        await validate(obj).catch((err: unknown) =>
          problems.push(`${obj.kind}/${obj.metadata.name}: ${(err as Error).message}`),
        );
      }
      expect(problems).toEqual([]);
      // Namespaced objects all land in the knm namespace.
      for (const obj of objs) {
        if (!['Namespace', 'ClusterRole', 'ClusterRoleBinding'].includes(obj.kind))
          expect(obj.metadata.namespace, `${obj.kind}/${obj.metadata.name}`).toBe('knm');
      }
    },
  );

  it.each(OVERLAYS)(
    '%s: the watcher ClusterRole is least privilege and bound to the watcher ServiceAccount',
    (dir) => {
      const objs = get(dir);
      const role = one<K8sObject & { rules: unknown[] }>(objs, 'ClusterRole', 'knm-watcher');
      expect(role.rules).toEqual([
        { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch', 'patch'] },
        { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: [''], resources: ['pods/eviction'], verbs: ['create'] },
        { apiGroups: ['apps'], resources: ['daemonsets'], verbs: ['get'] },
        { apiGroups: ['metrics.k8s.io'], resources: ['nodes', 'pods'], verbs: ['get', 'list'] },
      ]);
      expect(byKind(objs, 'Role')).toEqual([]);
      expect(byKind(objs, 'ClusterRole')).toHaveLength(1);
      const binding = one<K8sObject & { roleRef: unknown; subjects: unknown[] }>(
        objs,
        'ClusterRoleBinding',
        'knm-watcher',
      );
      expect(binding.roleRef).toEqual({
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: 'knm-watcher',
      });
      const sa = one(objs, 'ServiceAccount', 'knm-watcher');
      expect(binding.subjects).toEqual([
        { kind: 'ServiceAccount', name: 'knm-watcher', namespace: sa.metadata.namespace },
      ]);
    },
  );

  it.each(['k8s/overlays/dev', 'k8s/overlays/prod'])(
    '%s: no session affinity anywhere; the Ingress keeps WebSockets open',
    (dir) => {
      const objs = get(dir);
      for (const svc of byKind<K8sObject & { spec: { sessionAffinity?: string } }>(objs, 'Service')) {
        expect(svc.spec.sessionAffinity ?? 'None').toBe('None');
      }
      const ingress = one(objs, 'Ingress', 'knm-gateway');
      const annotations = ingress.metadata.annotations ?? {};
      for (const key of Object.keys(annotations))
        expect(key).not.toMatch(/affinity|session-cookie|upstream-hash-by/);
      expect(annotations['nginx.ingress.kubernetes.io/proxy-read-timeout']).toBe('3600');
      expect(annotations['nginx.ingress.kubernetes.io/proxy-send-timeout']).toBe('3600');
      const config = one<K8sObject & { data: Record<string, string> }>(objs, 'ConfigMap', 'knm-gateway');
      expect(config.data['KNM_WS_TRANSPORTS']).toBe('websocket');
    },
  );

  it.each(['k8s/overlays/dev', 'k8s/overlays/prod'])(
    '%s: every pod runs non-root with a read-only root FS, probes, requests and limits, pinned images',
    (dir) => {
      const objs = get(dir);
      const deployments = byKind<Deployment>(objs, 'Deployment');
      expect(deployments.length).toBeGreaterThanOrEqual(2);
      for (const d of deployments) {
        const pod = d.spec.template.spec;
        const where = `Deployment/${d.metadata.name}`;
        expect(pod.securityContext?.runAsNonRoot, where).toBe(true);
        expect(pod.securityContext?.runAsUser, where).toBeGreaterThan(0);
        expect(pod.securityContext?.seccompProfile?.type, where).toBe('RuntimeDefault');
        for (const c of pod.containers) {
          expect(c.securityContext, where).toMatchObject({
            readOnlyRootFilesystem: true,
            allowPrivilegeEscalation: false,
            capabilities: { drop: ['ALL'] },
          });
          expect(c.resources?.requests?.['cpu'], where).toBeDefined();
          expect(c.resources?.requests?.['memory'], where).toBeDefined();
          expect(c.resources?.limits?.['memory'], where).toBeDefined();
          expect(c.livenessProbe, where).toBeDefined();
          expect(c.readinessProbe, where).toBeDefined();
          expect(c.image, where).toMatch(/:[\w.-]*\d[\w.-]*$/);
          expect(c.image, where).not.toMatch(/:latest$/);
        }
        // The selector selects the pods it creates.
        expect(d.spec.template.metadata.labels).toMatchObject(d.spec.selector.matchLabels);
      }
      const gateway = one<Deployment>(objs, 'Deployment', 'knm-gateway');
      const g = gateway.spec.template.spec.containers[0];
      expect(g?.livenessProbe?.httpGet?.path).toBe('/healthz');
      expect(g?.readinessProbe?.httpGet?.path).toBe('/readyz');
      expect(gateway.spec.template.spec.automountServiceAccountToken).toBe(false);
      for (const d of deployments.filter((x) => x.metadata.name.startsWith('knm-watcher-'))) {
        const c = d.spec.template.spec.containers[0];
        expect(c?.livenessProbe?.httpGet?.path).toBe('/healthz');
        expect(c?.readinessProbe?.httpGet?.path).toBe('/readyz');
      }
    },
  );

  it('prod: 3 gateways with HPA and PDB; one 3-member watcher pool (KNM_SECRETS_KEY from knm-secrets, PDB), no Deployment per cluster', () => {
    const objs = get('k8s/overlays/prod');
    const gateway = one<Deployment>(objs, 'Deployment', 'knm-gateway');
    expect(gateway.spec.replicas).toBe(3);
    const hpa = one<
      K8sObject & { spec: { scaleTargetRef: unknown; minReplicas: number; maxReplicas: number } }
    >(objs, 'HorizontalPodAutoscaler', 'knm-gateway');
    expect(hpa.spec).toMatchObject({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'knm-gateway' },
      minReplicas: 3,
      maxReplicas: 20,
    });
    const pdb = one<
      K8sObject & { spec: { minAvailable: number; selector: { matchLabels: Record<string, string> } } }
    >(objs, 'PodDisruptionBudget', 'knm-gateway');
    expect(pdb.spec.minAvailable).toBe(2);
    expect(gateway.spec.template.metadata.labels).toMatchObject(pdb.spec.selector.matchLabels);

    // One watcher pool serves every registered cluster: no Deployment per cluster.
    const watchers = byKind<Deployment>(objs, 'Deployment').filter((d) =>
      d.metadata.name.startsWith('knm-watcher'),
    );
    expect(watchers.map((d) => d.metadata.name)).toEqual(['knm-watcher-pool']);
    const pool = watchers[0] as Deployment;
    expect(pool.spec.replicas).toBe(3);
    const pod = pool.spec.template.spec;
    const c = pod.containers[0] as Container;
    expect(c.command).toContain('--pool');
    expect(env(c, 'KNM_CLUSTER')).toBeUndefined();
    expect(env(c, 'KUBECONFIG')).toBeUndefined();
    expect(env(c, 'KNM_SECRETS_KEY')?.valueFrom?.secretKeyRef).toEqual({ name: 'knm-secrets', key: 'key' });
    expect(env(c, 'KNM_WATCHER_ID')?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
    // Its pods authenticate with the registered kubeconfigs only: no token of this cluster.
    expect(pod.serviceAccountName).toBe('knm-watcher-pool');
    expect(pod.automountServiceAccountToken).toBe(false);
    const poolPdbs = byKind<
      K8sObject & { spec: { maxUnavailable: number; selector: { matchLabels: Record<string, string> } } }
    >(objs, 'PodDisruptionBudget').filter((p) => p.spec.selector.matchLabels['knm.io/pool'] === 'watchers');
    expect(poolPdbs.map((p) => p.spec.maxUnavailable)).toEqual([1]);
    expect(pool.spec.template.metadata.labels).toMatchObject(poolPdbs[0]?.spec.selector.matchLabels ?? {});
    // Secrets are created out of band in prod: none is rendered (nothing secret in git).
    expect(byKind(objs, 'Secret')).toEqual([]);
  });

  it('every Secret and ConfigMap a pod refers to exists (dev) or is one of the documented out-of-band Secrets (prod)', () => {
    const outOfBand = new Set(['knm-redis', 'knm-auth', 'knm-secrets']);
    for (const dir of ['k8s/overlays/dev', 'k8s/overlays/prod']) {
      const objs = get(dir);
      const names = new Set(
        objs
          .filter((o) => o.kind === 'Secret' || o.kind === 'ConfigMap')
          .map((o) => `${o.kind}/${o.metadata.name}`),
      );
      for (const d of byKind<Deployment>(objs, 'Deployment')) {
        const pod = d.spec.template.spec;
        const refs: string[] = [];
        for (const c of pod.containers) {
          for (const e of c.env ?? []) {
            if (e.valueFrom?.secretKeyRef) refs.push(`Secret/${e.valueFrom.secretKeyRef.name}`);
            if (e.valueFrom?.configMapKeyRef) refs.push(`ConfigMap/${e.valueFrom.configMapKeyRef.name}`);
          }
          for (const e of c.envFrom ?? []) {
            if (e.configMapRef) refs.push(`ConfigMap/${e.configMapRef.name}`);
            if (e.secretRef) refs.push(`Secret/${e.secretRef.name}`);
          }
        }
        for (const v of pod.volumes ?? []) if (v.secret) refs.push(`Secret/${v.secret.secretName}`);
        for (const ref of refs) {
          const ok =
            names.has(ref) ||
            (dir.endsWith('prod') && ref.startsWith('Secret/') && outOfBand.has(ref.slice(7)));
          expect(ok, `${dir} Deployment/${d.metadata.name} refers to ${ref}`).toBe(true);
        }
      }
    }
  });
});
