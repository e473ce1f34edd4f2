import { afterEach, describe, expect, it } from 'vitest';
import { TokenVerifier } from '@knm/auth';
import {
  createTestRedis,
  spawnApp,
  spawnProcess,
  typeScriptNodeArgs,
  type ManagedProcess,
  type TestRedis,
} from '@knm/testing';
import { SECRET } from './support/gateway-harness.js';

let redis: TestRedis | undefined;
const procs: ManagedProcess[] = [];

afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.stop('SIGKILL', 1_000)));
  await redis?.close();
  redis = undefined;
});

describe('gateway process (npm run gateway)', () => {
  it('starts from source, serves, and exits 0 on SIGTERM', async () => {
    redis = await createTestRedis();
    const gw = spawnApp(
      'gateway',
      ['--port', '0', '--host', '127.0.0.1', '--redis', redis.url, '--namespace', redis.namespace],
      {
        env: { KNM_JWT_SECRET: SECRET },
      },
    );
    procs.push(gw);
    const [, port] = await gw.waitForOutput(/gateway listening on port (\d+)/, 45_000);
    const health = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(health.status).toBe(200);
    const unauthenticated = await fetch(`http://127.0.0.1:${port}/api/v1/clusters`);
    expect(unauthenticated.status).toBe(401);
    expect(await gw.stop('SIGTERM', 10_000)).toEqual({ code: 0, signal: null });
    expect(gw.output()).toMatch(/"msg":"gateway stopped"/);
  }, 60_000);

  it('refuses to start without a secret, saying what to set', async () => {
    const gw = spawnApp('gateway', ['--port', '0'], { env: { KNM_JWT_SECRET: '', KNM_JWKS_URL: '' } });
    procs.push(gw);
    expect(await gw.exited).toEqual({ code: 2, signal: null });
    expect(gw.output()).toMatch(/set KNM_JWT_SECRET/);
  }, 60_000);
});

describe('token CLI (npm run token)', () => {
  it('prints a token that verifies with the role and clusters asked for', async () => {
    const cli = spawnProcess({
      name: 'token',
      args: [
        ...typeScriptNodeArgs('apps/gateway/src/token-cli.ts'),
        '--role',
        'operator',
        '--clusters',
        'dev,prod',
        '--ttl',
        '2h',
        '--sub',
        'ana',
      ],
      env: { KNM_JWT_SECRET: SECRET },
    });
    procs.push(cli);
    expect(await cli.exited).toEqual({ code: 0, signal: null });
    const principal = await new TokenVerifier({ secret: SECRET }).verify(cli.output().trim());
    expect(principal).toMatchObject({ sub: 'ana', role: 'operator', clusters: ['dev', 'prod'] });
    expect(principal.exp - Date.now() / 1000).toBeGreaterThan(2 * 3600 - 120);
  }, 60_000);

  it('exits 2 with the usage on a bad role', async () => {
    const cli = spawnProcess({
      name: 'token',
      args: [...typeScriptNodeArgs('apps/gateway/src/token-cli.ts'), '--role', 'root'],
      env: { KNM_JWT_SECRET: SECRET },
    });
    procs.push(cli);
    expect(await cli.exited).toEqual({ code: 2, signal: null });
    expect(cli.output()).toMatch(/--role must be viewer, operator or admin/);
  }, 60_000);
});
