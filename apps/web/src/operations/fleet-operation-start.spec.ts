import { describe, expect, it } from 'vitest';
import {
  OperationSchema,
  type CreateOperationRequestInput,
  type CreateOperationResponse,
} from '@knm/contracts';
import { startPerCluster, type ClusterStartOutcome } from './fleet-operation-start.js';
import { OperationsApiError } from './operations-api.js';

const request = (nodes: string[]): CreateOperationRequestInput => ({ action: 'cordon', params: {}, nodes });

function created(cluster: string, nodes: string[]): CreateOperationResponse {
  const operation = OperationSchema.parse({
    id: `${cluster}.00000000-0000-4000-8000-000000000000`,
    cluster,
    action: 'cordon',
    params: {},
    nodes,
    state: 'queued',
    progress: { done: 0, total: nodes.length },
    results: nodes.map((node) => ({ node, status: 'pending' })),
    createdBy: 'ana',
    createdAt: '2026-12-02T06:00:00Z',
  });
  return { operationId: operation.id, operation };
}

describe('startPerCluster', () => {
  it('starts one operation per cluster with its own nodes; a refusal keeps its status and reason', async () => {
    const calls: [string, string[]][] = [];
    const api = {
      create(cluster: string, req: CreateOperationRequestInput): Promise<CreateOperationResponse> {
        const nodes = req.nodes ?? [];
        calls.push([cluster, nodes]);
        if (cluster === 'edge')
          return Promise.reject(
            new OperationsApiError(409, {
              statusCode: 409,
              error: 'Conflict',
              message: 'node "n-1" is held by edge.x',
            }),
          );
        if (cluster === 'lab') return Promise.reject(new Error('network down'));
        return Promise.resolve(created(cluster, nodes));
      },
    };
    const heard: ClusterStartOutcome[] = [];
    const outcomes = await startPerCluster(
      api,
      [
        { cluster: 'dev', request: request(['a', 'b']) },
        { cluster: 'edge', request: request(['n-1']) },
        { cluster: 'lab', request: request(['l-1']) },
      ],
      (o) => heard.push(o),
    );
    expect(calls).toEqual([
      ['dev', ['a', 'b']],
      ['edge', ['n-1']],
      ['lab', ['l-1']],
    ]);
    expect(outcomes.map((o) => ('operation' in o ? o.operation.nodes : o.reason))).toEqual([
      ['a', 'b'],
      '409: node "n-1" is held by edge.x',
      'network down',
    ]);
    expect(heard).toHaveLength(3);
  });
});
