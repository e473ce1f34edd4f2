import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { WORKSPACE_ROOT } from '@knm/testing';

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[] | string;
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[]; interval?: string };
  read_only?: boolean;
  user?: string;
}
interface Compose {
  services: Record<string, ComposeService>;
}

const read = (path: string): string => readFileSync(join(WORKSPACE_ROOT, path), 'utf8');
const compose = parse(read('docker-compose.yml'), { merge: true }) as Compose;
const services = compose.services;
const PINNED = /^[\w./-]+:(?!latest$)[\w.-]*\d[\w.-]*$/;

describe('docker-compose.yml', () => {
  it('has Redis, two kube-sims and their registration, a watcher pool of three, three gateways and a load balancer', () => {
    expect(Object.keys(services).sort()).toEqual(
      [
        'redis',
        'kube-sim-dev',
        'kube-sim-prod',
        'watcher-1',
        'watcher-2',
        'watcher-3',
        'register-clusters',
        'gateway-1',
        'gateway-2',
        'gateway-3',
        'lb',
      ].sort(),
    );
  });

  it('gives every service a health check and a pinned image tag (never latest)', () => {
    for (const [name, s] of Object.entries(services)) {
      expect(s.healthcheck?.test?.length, `${name} healthcheck`).toBeGreaterThan(1);
      expect(s.image, `${name} image`).toMatch(PINNED);
    }
    // The knm services are built from the multi-stage Dockerfile and run its built output.
    for (const name of Object.keys(services).filter((n) => /^(kube-sim|watcher|gateway)-/.test(n))) {
      const s = services[name];
      expect(s?.build).toEqual({ context: '.', dockerfile: 'docker/Dockerfile' });
      expect(s?.command?.[1], name).toMatch(/^apps\/(kube-sim|watcher|gateway)\/dist\/main\.js$/);
      expect(s?.read_only, name).toBe(true);
    }
  });

  it('runs one watcher pool (own identities, one secrets key) over the clusters registered from kubeconfigs that reach their kube-sims', () => {
    const members = ['watcher-1', 'watcher-2', 'watcher-3'].map((n) => services[n]);
    const register = services['register-clusters'];
    const key = register?.environment?.['KNM_SECRETS_KEY'];
    expect(key).toBeTruthy();
    for (const s of members) {
      expect(s?.command).toContain('--pool');
      expect(s?.environment?.['KNM_CLUSTER']).toBeUndefined();
      expect(s?.environment?.['KNM_SECRETS_KEY']).toBe(key);
      expect(s?.depends_on?.['redis']?.condition).toBe('service_healthy');
    }
    expect(new Set(members.map((s) => s?.environment?.['KNM_WATCHER_ID'])).size).toBe(3);
    for (const cluster of ['dev', 'prod']) {
      expect(register?.command).toContain(`${cluster}=/etc/knm/${cluster}.yaml`);
      expect(register?.depends_on?.[`kube-sim-${cluster}`]?.condition).toBe('service_healthy');
      const mount =
        (register?.volumes ?? []).map((v) => v.split(':')).find((m) => m[1] === `/etc/knm/${cluster}.yaml`) ??
        [];
      const kubeconfig = parse(read(mount[0] ?? '')) as {
        clusters: { cluster: { server: string } }[];
        users: { user: { token: string } }[];
      };
      expect(kubeconfig.clusters[0]?.cluster.server).toBe(`http://kube-sim-${cluster}:8080`);
      const sim = services[`kube-sim-${cluster}`];
      expect(sim?.command).toContain('--port=8080');
      expect(sim?.command).toContain(`--token=${kubeconfig.users[0]?.user.token ?? '?'}`);
    }
  });

  it('configures the gateways for a balancer without stickiness: WebSocket only, shared Redis, one JWT secret, CORS for the LB origin', () => {
    const gateways = ['gateway-1', 'gateway-2', 'gateway-3'].map((n) => services[n]?.environment ?? {});
    for (const g of gateways) {
      expect(g['REDIS_URL']).toBe('redis://redis:6379');
      expect(g['KNM_WS_TRANSPORTS'] ?? 'websocket').toBe('websocket');
      expect(g['KNM_CORS_ORIGINS']).toContain('http://127.0.0.1:8080');
    }
    expect(new Set(gateways.map((g) => g['KNM_JWT_SECRET'])).size).toBe(1);
    expect(services['lb']?.ports).toEqual(['127.0.0.1:8080:8080']);
  });

  it('balances round-robin over every gateway with NO sticky sessions and passes WebSocket upgrades (nginx)', () => {
    const lb = services['lb'];
    expect(lb?.volumes).toContain('./docker/nginx/nginx.conf:/etc/nginx/nginx.conf:ro');
    const conf = read('docker/nginx/nginx.conf')
      .split('\n')
      .map((l) => l.replace(/#.*$/, '').trim())
      .filter(Boolean)
      .join('\n');
    expect(conf).not.toMatch(/\b(ip_hash|hash|sticky|least_conn|random)\b/);
    const upstream = conf.match(/upstream gateways \{([^}]*)\}/)?.[1] ?? '';
    expect([...upstream.matchAll(/server ([\w-]+):8080/g)].map((m) => m[1])).toEqual([
      'gateway-1',
      'gateway-2',
      'gateway-3',
    ]);
    expect(conf).toContain('proxy_pass http://gateways;');
    expect(conf).toContain('proxy_http_version 1.1;');
    expect(conf).toContain('proxy_set_header Upgrade $http_upgrade;');
    expect(conf).toContain('proxy_set_header Connection $connection_upgrade;');
    expect(conf).toMatch(/map \$http_upgrade \$connection_upgrade \{\s*default upgrade;/);
    expect(conf).toMatch(/proxy_read_timeout 3600s;/);
  });
});

describe('docker/Dockerfile', () => {
  const dockerfile = read('docker/Dockerfile');
  const lines = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

  it('is multi-stage with every FROM pinned to a Node 24 version tag', () => {
    const froms = lines.filter((l) => /^FROM /i.test(l));
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const from of froms) {
      const image = from.split(/\s+/)[1] ?? '';
      expect(image).toMatch(PINNED);
      expect(image).toMatch(/^node:24\.\d+\.\d+-/);
    }
  });

  it('runs the built output as a non-root user with a health check', () => {
    const runtime = lines.slice(lines.findLastIndex((l) => /^FROM /i.test(l)));
    const users = runtime.filter((l) => /^USER /i.test(l)).map((l) => l.split(/\s+/)[1]);
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)(:.*)?$/);
    expect(runtime.some((l) => /^HEALTHCHECK /.test(l))).toBe(true);
    expect(runtime.find((l) => /^CMD /.test(l))).toContain('dist/main.js');
    expect(runtime.some((l) => /tsx|--conditions/.test(l))).toBe(false);
  });

  it('.dockerignore keeps node_modules, dist and kubeconfigs out of the build context', () => {
    const ignore = read('.dockerignore').split('\n');
    for (const entry of ['**/node_modules', '**/dist', '*.kubeconfig', '.git'])
      expect(ignore).toContain(entry);
  });
});
