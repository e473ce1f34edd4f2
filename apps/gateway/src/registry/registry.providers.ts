import type { Provider } from '@nestjs/common';
import type { Keyspace } from '@knm/contracts';
import type { RedisClient } from '@knm/node-store';
import type { Logger } from 'pino';
import { KEYSPACE, LOGGER, REDIS } from '../common/injection-tokens.js';
import type { GatewayConfig } from '../config/gateway-config.js';
import { ClusterRegistry } from './cluster-registry.js';
import { ClusterRegistryController } from './cluster-registry.controller.js';
import { loadRegistryConfig } from './registry-config.js';

export const REGISTRY_CONTROLLERS = [ClusterRegistryController];

/** Routes whose bodies carry a kubeconfig, with their own body limit (see {@link REGISTRY_BODY_LIMIT}). */
export const REGISTRY_BODY_ROUTES: readonly { method: string; url: string }[] = [
  { method: 'POST', url: '/api/v1/clusters' },
  { method: 'POST', url: '/api/v1/clusters/test' },
  { method: 'PUT', url: '/api/v1/clusters/:cluster' },
];

/**
 * Body limit of {@link REGISTRY_BODY_ROUTES}: a 256 KiB kubeconfig as a JSON string
 * (escaping can double it) plus the other fields. Past it Fastify answers 413; a
 * kubeconfig over 256 KiB that fits is refused with 413 by the registry.
 */
export const REGISTRY_BODY_LIMIT = 2 * 256 * 1024 + 4096;

export function registryProviders(config: GatewayConfig): Provider[] {
  return [
    {
      provide: ClusterRegistry,
      useFactory: (redis: RedisClient, keyspace: Keyspace, logger: Logger) =>
        new ClusterRegistry(
          redis,
          keyspace,
          config.registry ?? loadRegistryConfig({}, (m) => new Error(m)),
          logger.child({ component: 'cluster-registry' }),
        ),
      inject: [REDIS, KEYSPACE, LOGGER],
    },
  ];
}
