import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { signToken } from '@knm/auth';
import type { AuthClaims } from '@knm/contracts';
import { startKubeSim, type KubeSim, type KubeSimOptions } from '@knm/fake-cluster';
import {
  createTestRedis,
  freePort,
  spawnTestGateway,
  spawnTestPoolMember,
  spawnTestWatcher,
  type ManagedProcess,
  type TestRedis,
} from '@knm/testing';

const run = promisify(execFile);

/** The HS256 secret of the e2e gateway. */
export const E2E_SECRET = 'web-e2e-secret-0123456789-abcdefghijklmn';

/**
 * The real stack the dashboard runs against: kube-sim (in-process, with a
 * kubeconfig on disk for kubectl), the watcher process, and a gateway process
 * serving the built dashboard on a fixed port of its own (known before it starts,
 * so it can be stopped and started again at the same URL).
 */
export interface Stack {
  redis: TestRedis;
  sim: KubeSim;
  kubeconfigPath: string;
  watcher: ManagedProcess;
  /** A watcher pool member serving the clusters registered at runtime (with `{ pool: true }`). */
  pool: ManagedProcess | undefined;
  gateway: ManagedProcess;
  /** The dashboard's URL (the gateway's). */
  url: string;
  cluster: string;
  kubectl(...args: string[]): Promise<string>;
  token(claims: Partial<AuthClaims>): Promise<string>;
  /** Stops the gateway process (SIGTERM). */
  stopGateway(): Promise<void>;
  /** Starts the gateway process again on the same port. */
  startGateway(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts the whole stack for `cluster`; with `pool`, also a watcher pool member that
 * serves the clusters registered through the dashboard (same KNM_SECRETS_KEY as the gateway).
 */
export async function startStack(
  cluster: string,
  simOptions: KubeSimOptions,
  options: { pool?: boolean } = {},
): Promise<Stack> {
  const redis = await createTestRedis();
  const dir = await mkdtemp(join(tmpdir(), 'knm-web-e2e-'));
  const kubeconfigPath = join(dir, 'sim.kubeconfig');
  const sim = await startKubeSim({ ...simOptions, kubeconfigOut: kubeconfigPath });
  const watcher = spawnTestWatcher({ cluster, kubeconfigPath, redis });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const secretsKey = randomBytes(32).toString('base64');
  const spawnGateway = (): ManagedProcess =>
    spawnTestGateway({
      redis,
      jwtSecret: E2E_SECRET,
      port,
      // A browser's websocket handshake always carries Origin, even from the page the gateway served.
      // A secrets key, so the dashboard can register clusters (generated per stack).
      env: { KNM_CORS_ORIGINS: url, LOG_LEVEL: 'info', KNM_SECRETS_KEY: secretsKey },
    });
  const pool = options.pool
    ? spawnTestPoolMember({ redis, secretsKey, identity: 'pool-1', env: { KNM_OPS_ENABLED: 'false' } })
    : undefined;
  const stack: Stack = {
    redis,
    sim,
    kubeconfigPath,
    watcher,
    pool,
    gateway: spawnGateway(),
    url,
    cluster,
    async kubectl(...args) {
      const { stdout } = await run('kubectl', ['--kubeconfig', kubeconfigPath, ...args], { timeout: 30_000 });
      return stdout;
    },
    token: (claims) =>
      signToken({ sub: 'e2e', role: 'viewer', clusters: '*', ...claims } as AuthClaims, {
        secret: E2E_SECRET,
        ttlSeconds: 3_600,
      }),
    async stopGateway() {
      await stack.gateway.stop('SIGTERM', 10_000);
    },
    async startGateway() {
      stack.gateway = spawnGateway();
      await stack.gateway.waitForOutput(/gateway listening/, 60_000);
    },
    async close() {
      await stack.gateway.stop('SIGTERM', 10_000);
      await watcher.stop('SIGTERM', 10_000);
      await pool?.stop('SIGTERM', 10_000);
      await sim.close();
      await redis.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  await Promise.all([
    watcher.waitForOutput(/"msg":"watcher ready"/, 60_000),
    stack.gateway.waitForOutput(/gateway listening/, 60_000),
    pool?.waitForOutput(/"msg":"metrics listening"/, 60_000),
  ]);
  return stack;
}
