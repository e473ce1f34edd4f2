import { randomBytes } from 'node:crypto';
import { signToken } from '@knm/auth';
import { gatewayUrl, spawnTestGateway, type ManagedProcess } from '@knm/testing';
import { stopAll } from './processes.js';

/** Gateway processes serving one Redis namespace, and a viewer token they accept. */
export interface Gateways {
  /** Base URLs (`http://127.0.0.1:<port>`), one per process. */
  urls: string[];
  /** `{authorization: 'Bearer <viewer token for every cluster>'}`. */
  headers: Record<string, string>;
  procs: ManagedProcess[];
  stop(): Promise<void>;
}

/**
 * Starts `count` gateway processes (`apps/gateway` from source, free ports of
 * 127.0.0.1) on `namespace` of the Redis at `redisUrl`, sharing a fresh JWT secret,
 * and signs a viewer token for them. Rejects (stopping those started) when one does
 * not listen within a minute.
 */
export async function startGateways(
  count: number,
  redisUrl: string,
  namespace: string,
  env: Record<string, string> = {},
): Promise<Gateways> {
  const secret = randomBytes(32).toString('hex');
  const procs = Array.from({ length: count }, (_, i) =>
    spawnTestGateway({
      redis: { url: redisUrl, namespace },
      jwtSecret: secret,
      args: ['--log-level', 'info'],
      name: `gateway-${i + 1}`,
      // Enough for the warnings of a long overload (a stall report is about 600 characters).
      maxOutput: 32_000_000,
      // Thousands of simulated users share the bench's one token: no per-user subscribe limit.
      env: { KNM_SUBSCRIBE_RATE_LIMIT: '0', ...env },
    }),
  );
  try {
    const urls = await Promise.all(procs.map((p) => gatewayUrl(p)));
    const token = await signToken(
      { sub: 'bench', role: 'viewer', clusters: '*' },
      { secret, ttlSeconds: 3600 },
    );
    return { urls, headers: { authorization: `Bearer ${token}` }, procs, stop: () => stopAll(procs) };
  } catch (err) {
    await stopAll(procs);
    throw err;
  }
}

/**
 * The gateways' log lines (as captured, the newest `maxOutput` characters of each), oldest first per
 * gateway, whose message is `msg` (any, when undefined) and that contain `text` (when
 * given): what a scenario quotes when a figure needs a why.
 */
export function gatewayLogLines(gateways: Pick<Gateways, 'procs'>, msg?: string, text?: string): string[] {
  const needle = msg === undefined ? undefined : `"msg":${JSON.stringify(msg)}`;
  return gateways.procs.flatMap((p) =>
    p
      .output()
      .split('\n')
      .filter(
        (line) =>
          (needle === undefined || line.includes(needle)) && (text === undefined || line.includes(text)),
      ),
  );
}
