/**
 * Redis with a password over TLS, end to end with real processes: a `redis-server`
 * of its own with `--requirepass` and `--tls-port` only (certificates made by
 * `openssl` at test time, trusted through `NODE_EXTRA_CA_CERTS`), a watcher against
 * kube-sim and a gateway on `rediss://:<password>@127.0.0.1:<port>`, both at
 * `trace` level; a client sees a kubectl change. Neither process may print the JWT
 * secret, a token, the Redis password or the kubeconfig's token. A wrong password
 * is a clear startup error, not a hang.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { RealtimeEvents } from '@knm/contracts';
import {
  freePort,
  redisServerSuiteRuns,
  requireRedisServer,
  spawnTestGateway,
  spawnTestWatcher,
  startRedisServer,
  waitFor,
  type ManagedProcess,
} from '@knm/testing';
import { EnvelopeCollector } from './support/envelope-collector.js';
import { SECRET, connectSocket, connected, request, token } from './support/gateway-harness.js';
import { startSim, type SimHandle } from './support/sim-harness.js';

const run = promisify(execFile);
const PASSWORD = `pw-${Math.random().toString(36).slice(2)}-Zq9`;
const NAMESPACE = `knm-tls-${process.pid}`;
const CLUSTER = 'tls';

let dir: string;
let redisServer: ManagedProcess;
let port: number;
let sim: SimHandle;
const procs: ManagedProcess[] = [];

/** A CA, and a server certificate for 127.0.0.1 signed by it. */
async function makeCertificates(into: string): Promise<void> {
  const ssl = (...args: string[]) => run('openssl', args, { cwd: into, timeout: 30_000 });
  await ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=knm-test-ca',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
  );
  await ssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=127.0.0.1',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
  );
  await writeFile(join(into, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  await ssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    'san.ext',
    '-out',
    'server.pem',
  );
}

function url(password = PASSWORD): string {
  return `rediss://:${encodeURIComponent(password)}@127.0.0.1:${port}`;
}

const caEnv = () => ({ NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem') });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'knm-redis-tls-'));
  await makeCertificates(dir);
  port = await freePort();
  redisServer = await startRedisServer({
    port: 0,
    dir,
    name: 'redis-tls',
    args: [
      ...['--tls-port', String(port), '--tls-cert-file', join(dir, 'server.pem')],
      ...['--tls-key-file', join(dir, 'server.key'), '--tls-ca-cert-file', join(dir, 'ca.pem')],
      ...['--tls-auth-clients', 'no', '--requirepass', PASSWORD],
    ],
  });
  sim = await startSim({ nodes: 5, pods: 20, seed: 11 });
}, 60_000);

afterAll(async () => {
  await Promise.all(procs.splice(0).map((p) => p.stop('SIGTERM', 5_000)));
  await sim?.close();
  await redisServer?.stop('SIGTERM', 5_000);
  if (dir) await rm(dir, { recursive: true, force: true });
});

// In CI (CI=true) the suite runs even without redis-server, and fails: CI installs it.
const withRedisServer = redisServerSuiteRuns();

describe.skipIf(!withRedisServer)('Redis with a password over TLS (rediss://)', { timeout: 120_000 }, () => {
  // A test, not a hook: in CI a missing redis-server counts as a failure in the summary, not as skips.
  it('redis-server is installed (.ci/run installs it)', () => requireRedisServer());

  it('watcher -> Redis (TLS, password) -> gateway -> client sees a kubectl change; no secret in any log', async () => {
    const watcher = spawnTestWatcher({
      cluster: CLUSTER,
      kubeconfigPath: sim.kubeconfigPath,
      redis: { url: url(), namespace: NAMESPACE },
      args: ['--log-level', 'trace'],
      env: caEnv(),
    });
    procs.push(watcher);
    await watcher.waitForOutput(/"msg":"watcher ready"/, 60_000);
    const gateway = spawnTestGateway({
      redis: { url: url(), namespace: NAMESPACE },
      jwtSecret: SECRET,
      args: ['--log-level', 'trace'],
      env: caEnv(),
    });
    procs.push(gateway);
    const [, gwPort] = await gateway.waitForOutput(/gateway listening on port (\d+)/, 60_000);
    const gwUrl = `http://127.0.0.1:${gwPort}`;

    // Auth successes and failures of every kind, so that they are logged at trace level.
    const viewer = await token({ sub: 'tls-viewer' });
    expect(
      (await fetch(`${gwUrl}/api/v1/clusters`, { headers: { authorization: `Bearer ${viewer}` } })).status,
    ).toBe(200);
    expect(
      (await fetch(`${gwUrl}/api/v1/clusters`, { headers: { authorization: `Bearer ${viewer}x` } })).status,
    ).toBe(401);
    expect((await fetch(`${gwUrl}/api/v1/clusters?access_token=${viewer}`)).status).toBe(401);
    const refused = connectSocket(gwUrl, { token: `${viewer}x` });
    await expect(connected(refused)).rejects.toThrow(/signature/);
    refused.disconnect();
    const inUrl = connectSocket(gwUrl, { token: viewer }, { query: { token: viewer } });
    await expect(connected(inUrl)).rejects.toThrow(/in the URL is refused/);
    inUrl.disconnect();

    const socket = connectSocket(gwUrl, { token: viewer });
    try {
      await connected(socket);
      const envelopes = new EnvelopeCollector(socket).envelopes;
      expect(await request(socket, RealtimeEvents.subscribe, { cluster: CLUSTER })).toMatchObject({
        ok: true,
      });
      const [node] = (await sim.kubectl('get', 'nodes', '-o', 'name')).trim().split('\n');
      await sim.kubectl('label', '--overwrite', String(node), 'knm-tls=yes');
      const change = await waitFor(
        () =>
          envelopes.find(
            (e) =>
              e.type === 'node_update' && e.changes.includes('labels') && e.data.labels['knm-tls'] === 'yes',
          ),
        { timeout: 30_000, what: 'the label change over the TLS Redis' },
      );
      expect(change.type === 'node_update' && `node/${change.node}`).toBe(node);
    } finally {
      socket.disconnect();
    }

    // The gateway really went through TLS with the password: a plain connection is refused.
    const plain = new Redis({
      host: '127.0.0.1',
      port,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    plain.on('error', () => undefined);
    await expect(plain.connect().then(() => plain.ping())).rejects.toThrow();
    plain.disconnect();

    const logs = `${watcher.output()}\n${gateway.output()}`;
    expect(logs).toMatch(/"level":20,.*"msg":"request refused"/); // debug lines were written
    const kubeconfig = await readFile(sim.kubeconfigPath, 'utf8');
    expect(kubeconfig).toContain(sim.sim.token);
    for (const [what, secret] of [
      ['the JWT secret', SECRET],
      ['the Redis password', PASSWORD],
      ['the kubeconfig token', sim.sim.token],
      ['a bearer token', viewer],
      ['a token signature', String(viewer.split('.')[2])],
    ] as const) {
      expect(logs.includes(secret), `${what} appears in the logs`).toBe(false);
    }
  });

  it('a wrong Redis password is a clear startup error for the gateway and the watcher, not a hang', async () => {
    const gateway = spawnTestGateway({
      redis: { url: url('not-the-password'), namespace: NAMESPACE },
      jwtSecret: SECRET,
      env: caEnv(),
    });
    procs.push(gateway);
    const exit = await Promise.race([
      gateway.exited,
      new Promise<'hang'>((resolve) => setTimeout(() => resolve('hang'), 45_000)),
    ]);
    expect(exit, gateway.tail()).not.toBe('hang');
    expect(exit).toMatchObject({ code: 1 });
    expect(gateway.output()).toMatch(/WRONGPASS|invalid username-password|NOAUTH/);
    expect(gateway.output()).not.toContain('not-the-password');

    const watcher = spawnTestWatcher({
      cluster: CLUSTER,
      kubeconfigPath: sim.kubeconfigPath,
      redis: { url: url('not-the-password'), namespace: NAMESPACE },
      env: caEnv(),
      name: 'watcher-wrong-password',
    });
    procs.push(watcher);
    const watcherExit = await Promise.race([
      watcher.exited,
      new Promise<'hang'>((resolve) => setTimeout(() => resolve('hang'), 45_000)),
    ]);
    expect(watcherExit, watcher.tail()).not.toBe('hang');
    expect(watcherExit).toMatchObject({ code: 2 });
    expect(watcher.output()).toMatch(/Redis refused the credentials of the Redis URL \(WRONGPASS/);
    expect(watcher.output()).not.toContain('not-the-password');
  });
});
