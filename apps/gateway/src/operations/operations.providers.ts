import type { Provider, Type } from '@nestjs/common';
import type { Logger } from 'pino';
import { Keyspace } from '@knm/contracts';
import { AuditLog, OperationEvents, OperationQueues, OperationStore } from '@knm/node-ops';
import { createRedisConnection } from '@knm/node-store';
import type { GatewayConfig } from '../config/gateway-config.js';
import { OperationProgressRelay } from './operation-progress-relay.js';
import { OperationsController } from './operations.controller.js';
import { OperationsService } from './operations.service.js';
import {
  AUDIT_LOG,
  OPERATION_EVENTS,
  OPERATION_QUEUES,
  OPERATION_STORE,
  OPERATIONS_REDIS,
} from './operations.tokens.js';

/** The controllers of the operations feature. */
export const OPERATIONS_CONTROLLERS: Type[] = [OperationsController];

/**
 * The providers of the operations feature, for the gateway module: its own Redis
 * connection (store, queues, audit reads), the BullMQ producer, the QueueEvents
 * listeners and the progress relay (closed by the relay's shutdown hook).
 */
export function operationsProviders(config: GatewayConfig, logger: Logger): Provider[] {
  const keyspace = new Keyspace(config.redisNamespace);
  const redis = createRedisConnection(config.redisUrl, 'commands'); // standalone or Redis Cluster
  redis.on('error', () => undefined); // reported by the main connection's health; commands fail and answer 5xx
  const events = new OperationEvents({
    redisUrl: config.redisUrl,
    keyspace,
    onError: (cluster, err) => logger.warn({ cluster, err: err.message }, 'operations: queue events error'),
  });
  return [
    { provide: OPERATIONS_REDIS, useValue: redis },
    { provide: OPERATION_STORE, useValue: new OperationStore(redis, keyspace) },
    { provide: OPERATION_QUEUES, useValue: new OperationQueues(redis, keyspace) },
    { provide: AUDIT_LOG, useValue: new AuditLog(redis, keyspace) },
    { provide: OPERATION_EVENTS, useValue: events },
    OperationsService,
    OperationProgressRelay,
  ];
}
