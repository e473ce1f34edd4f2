import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { assertClusterAccess, assertRole, ForbiddenError, type Principal } from '@knm/auth';
import {
  clusterOfOperationId,
  clustersAllow,
  ContractError,
  CreateOperationRequestSchema,
  decode,
  operationId,
  type AuditQuery,
  type AuditRecord,
  type ClusterName,
  type CreateOperationResponse,
  type DryRunResponse,
  type NodeSnapshot,
  type Operation,
  type OperationSpec,
} from '@knm/contracts';
import type { NodeStoreReader } from '@knm/node-store';
import {
  ControlPlaneNodesError,
  EmptySelectionError,
  NodesBusyError,
  OperationCanceller,
  OperationNotFoundError,
  planDryRun,
  resolveTargets,
  UnknownNodesError,
  type AuditLog,
  type OperationEvents,
  type OperationQueues,
  type OperationStore,
} from '@knm/node-ops';
import { NODE_STORE_READER } from '../common/injection-tokens.js';
import { NotFoundError } from '../common/error-body.js';
import { OperationProgressRelay } from './operation-progress-relay.js';
import { AUDIT_LOG, OPERATION_EVENTS, OPERATION_QUEUES, OPERATION_STORE } from './operations.tokens.js';

/**
 * The gateway's side of node operations: validate, resolve the target nodes against
 * knm's view of the cluster, answer dry runs, create the operation and enqueue its
 * job (the gateway never runs jobs), and read operations and the audit trail.
 * Order of checks on create: token covers the cluster (the guard), role operator or
 * admin (403), body (400 naming each bad field), cluster registered (404), nodes
 * known (404 naming them) or selector matching (400), no control-plane node in a
 * drain without `params.includeControlPlane` (400 naming them), no node held by an
 * unfinished operation (409 naming it: one operation per node at a time).
 */
@Injectable()
export class OperationsService {
  private readonly canceller: OperationCanceller;

  constructor(
    @Inject(NODE_STORE_READER) private readonly reader: NodeStoreReader,
    @Inject(OPERATION_STORE) private readonly store: OperationStore,
    @Inject(OPERATION_QUEUES) private readonly queues: OperationQueues,
    @Inject(OPERATION_EVENTS) private readonly events: OperationEvents,
    @Inject(AUDIT_LOG) private readonly audit: AuditLog,
    @Inject(OperationProgressRelay) private readonly relay: OperationProgressRelay,
  ) {
    this.canceller = new OperationCanceller(store, audit);
  }

  /** `POST /api/v1/clusters/:cluster/operations`. */
  async create(
    principal: Principal,
    cluster: ClusterName,
    body: unknown,
  ): Promise<
    { dryRun: true; response: DryRunResponse } | { dryRun: false; response: CreateOperationResponse }
  > {
    assertClusterAccess(principal, cluster);
    assertRole(principal, 'operator');
    const request = decode(CreateOperationRequestSchema, body, 'operation request');
    if (!(await this.reader.getCluster(cluster)))
      throw new NotFoundError(`cluster "${cluster}" is not registered`);
    const snapshot = await this.reader.getSnapshot(cluster);
    const nodes = new Map<string, NodeSnapshot>(snapshot.nodes.map((n) => [n.name, n]));
    let targets: string[];
    try {
      targets = resolveTargets(cluster, request, nodes);
    } catch (err) {
      if (err instanceof UnknownNodesError) throw new NotFoundError(`nodes: ${err.message}`);
      if (err instanceof EmptySelectionError) {
        throw new ContractError('operation request', [{ path: 'selector', message: err.message }]);
      }
      if (err instanceof ControlPlaneNodesError) {
        throw new ContractError('operation request', [
          { path: 'params.includeControlPlane', message: err.message },
        ]);
      }
      throw err;
    }
    const spec = { action: request.action, params: request.params } as OperationSpec;
    if (request.dryRun) {
      const changes = planDryRun(spec, targets, nodes, snapshot.podCounts, {
        user: principal.sub,
        now: new Date().toISOString(),
        ...(request.reason !== undefined ? { reason: request.reason } : {}),
      });
      return { dryRun: true, response: { dryRun: true, cluster, action: request.action, changes } };
    }
    const op = {
      id: operationId(cluster, randomUUID()),
      cluster,
      ...spec,
      nodes: targets,
      state: 'queued',
      progress: { done: 0, total: targets.length },
      results: targets.map((node) => ({ node, status: 'pending' as const })),
      createdBy: principal.sub,
      ...(principal.groups !== undefined ? { createdByGroups: principal.groups } : {}),
      createdAt: new Date().toISOString(),
      ...(request.selector !== undefined ? { selector: request.selector } : {}),
      ...(request.reason !== undefined ? { reason: request.reason } : {}),
    } as Operation;
    // Hear this cluster's progress before its job can start (a cluster registered
    // since the relay's last refresh would otherwise miss the first events).
    await this.events.listen(cluster);
    const busy = await this.store.lockNodes(op);
    if (busy) throw new NodesBusyError(cluster, busy.holder, busy.nodes);
    try {
      await this.store.create(op);
      await this.queues.enqueue(op);
    } catch (err) {
      await this.store.unlockNodes(op).catch(() => undefined);
      throw err;
    }
    return { dryRun: false, response: { operationId: op.id, operation: op } };
  }

  /** `GET /api/v1/operations/:id`: 404 for an unknown id, 403 outside the token's clusters. */
  async get(principal: Principal, id: string): Promise<Operation> {
    const cluster = clusterOfOperationId(id);
    if (!cluster)
      throw new NotFoundError(`operation "${id}" does not exist (ids look like <cluster>.<uuid>)`);
    assertClusterAccess(principal, cluster);
    const op = await this.store.get(id);
    if (!op) throw new NotFoundError(`operation "${id}" does not exist (or has expired)`);
    return op;
  }

  /**
   * `POST /api/v1/operations/:id/cancel`: an operator of the operation's cluster stops
   * it (404 unknown, 403 outside the token or below operator, 409 already finished).
   * Resolves with the operation as it now stands (`cancelled`, or `running` with
   * `cancelRequestedAt` until its runner stops); `operation_progress` says it at once.
   */
  async cancel(principal: Principal, id: string): Promise<Operation> {
    const cluster = clusterOfOperationId(id);
    if (!cluster)
      throw new NotFoundError(`operation "${id}" does not exist (ids look like <cluster>.<uuid>)`);
    assertClusterAccess(principal, cluster);
    assertRole(principal, 'operator');
    let op: Operation;
    try {
      op = await this.canceller.cancel(id, principal.sub);
    } catch (err) {
      if (err instanceof OperationNotFoundError) throw new NotFoundError(err.message);
      throw err;
    }
    await this.relay.push(id);
    return op;
  }

  /** `GET /api/v1/clusters/:cluster/operations`: newest first. */
  async list(cluster: ClusterName, limit: number): Promise<Operation[]> {
    if (!(await this.reader.getCluster(cluster)))
      throw new NotFoundError(`cluster "${cluster}" is not registered`);
    return this.store.list(cluster, limit);
  }

  /** `GET /api/v1/audit`: only records of clusters the token covers. */
  async auditTrail(principal: Principal, query: AuditQuery): Promise<AuditRecord[]> {
    if (query.cluster !== undefined && !clustersAllow(principal.clusters, query.cluster)) {
      throw new ForbiddenError(`your token does not cover cluster "${query.cluster}"`);
    }
    return this.audit.query(query, (c) => clustersAllow(principal.clusters, c));
  }
}
