import type { Socket } from 'socket.io-client';
import {
  CreateOperationResponseSchema,
  OPERATION_PROGRESS_EVENT,
  OperationSchema,
  type CreateOperationRequestInput,
  type Operation,
} from '@knm/contracts';
import { spawnTestWatcher, waitFor, type ManagedProcess, type TestRedis } from '@knm/testing';
import type { SimHandle } from './sim-harness.js';

/**
 * Starts the real watcher process for `cluster` (it hosts the cluster's operations
 * worker), with short BullMQ lock and stalled intervals so a killed worker's job is
 * taken over within seconds.
 */
export function spawnOpsWatcher(
  sim: SimHandle,
  redis: TestRedis,
  cluster: string,
  env: Record<string, string> = {},
): ManagedProcess {
  return spawnTestWatcher({
    cluster,
    kubeconfigPath: sim.kubeconfigPath,
    redis,
    env: { KNM_OPS_LOCK_MS: '3000', KNM_OPS_STALLED_INTERVAL_MS: '1000', ...env },
  });
}

/** POSTs an operation and returns the created one (expects 202). */
export async function postOperation(
  url: string,
  auth: string,
  cluster: string,
  request: CreateOperationRequestInput,
): Promise<Operation> {
  const res = await fetch(`${url}/api/v1/clusters/${cluster}/operations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${auth}`, 'content-type': 'application/json' },
    body: JSON.stringify(request),
  });
  const body = (await res.json()) as unknown;
  if (res.status !== 202) throw new Error(`POST operation: HTTP ${res.status} ${JSON.stringify(body)}`);
  return CreateOperationResponseSchema.parse(body).operation;
}

/** GETs an operation. */
export async function getOperation(url: string, auth: string, id: string): Promise<Operation> {
  const res = await fetch(`${url}/api/v1/operations/${id}`, { headers: { authorization: `Bearer ${auth}` } });
  if (res.status !== 200) throw new Error(`GET operation: HTTP ${res.status} ${await res.text()}`);
  return OperationSchema.parse(await res.json());
}

/** Polls until the operation reaches a final state. */
export function finished(url: string, auth: string, id: string, timeout = 60_000): Promise<Operation> {
  return waitFor(
    async () => {
      const op = await getOperation(url, auth, id);
      return ['completed', 'failed', 'partial'].includes(op.state) ? op : undefined;
    },
    { timeout, interval: 100, what: `operation ${id} finished` },
  );
}

/** Records every `operation_progress` event a socket receives, decoded. */
export class ProgressCollector {
  readonly events: Operation[] = [];

  constructor(socket: Socket) {
    socket.on(OPERATION_PROGRESS_EVENT, (raw: unknown) => this.events.push(OperationSchema.parse(raw)));
  }

  /** The events of one operation. */
  of(id: string): Operation[] {
    return this.events.filter((e) => e.id === id);
  }
}
