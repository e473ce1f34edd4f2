import {
  ClusterConnectionStore,
  purgeClusterKeys,
  registeredClusterSummaries,
  testClusterConnection,
} from '@knm/cluster-connections';
import {
  MAX_KUBECONFIG_BYTES,
  type ClusterConnectionSummary,
  type ClusterName,
  type ConnectionTestResult,
  type Keyspace,
} from '@knm/contracts';
import type { RedisClient } from '@knm/node-store';
import { ConflictException, PayloadTooLargeException, ServiceUnavailableException } from '@nestjs/common';
import type { Logger } from 'pino';
import { NotFoundError } from '../common/error-body.js';
import type { RegistryConfig } from './registry-config.js';
import { ConnectionTestFailedError } from './registry-errors.js';

/** What registering or replacing answers. */
export interface RegistrationResult {
  cluster: ClusterConnectionSummary;
  test: ConnectionTestResult;
}

/** Credentials as a request carries them. */
export interface CredentialsInput {
  kubeconfig: string;
  context?: string | undefined;
}

/** Polls every this many ms for the cluster's lease to go. */
const LEASE_POLL_MS = 100;

/**
 * The clusters registered at runtime, for the REST routes: each registration is
 * tested first ({@link testClusterConnection}) and stored sealed only when the test
 * passes; a removal stops the cluster's watcher (through the connection store's
 * change) and then deletes every key the cluster had. Never logs a kubeconfig: log
 * lines name the cluster, the server and who.
 */
export class ClusterRegistry {
  private readonly store: ClusterConnectionStore | undefined;

  constructor(
    private readonly redis: RedisClient,
    private readonly keyspace: Keyspace,
    private readonly config: RegistryConfig,
    private readonly logger: Logger,
  ) {
    this.store = config.box ? new ClusterConnectionStore(redis, keyspace, config.box) : undefined;
  }

  /** The registered clusters without credentials (readable without KNM_SECRETS_KEY). */
  registered(): Promise<ClusterConnectionSummary[]> {
    return registeredClusterSummaries(this.redis, this.keyspace, (name, err) =>
      this.logger.warn({ cluster: name, err: err.message }, 'a registered cluster entry does not decode'),
    );
  }

  /** Tests credentials without storing anything (the form's "Test connection"). */
  async test(input: CredentialsInput): Promise<ConnectionTestResult> {
    this.requireStore();
    return (await this.run(input)).result;
  }

  /** Registers a new cluster: 409 when the name is taken, 400/422 when the test fails. */
  async register(name: ClusterName, input: CredentialsInput, by: string): Promise<RegistrationResult> {
    const store = this.requireStore();
    if (await store.summary(name)) {
      throw new ConflictException(
        `cluster "${name}" is already registered: PUT /api/v1/clusters/${name} replaces its credentials`,
      );
    }
    return this.save(store, name, input, by, 'registered');
  }

  /** Replaces a registered cluster's credentials: 404 when it is not registered. */
  async replace(name: ClusterName, input: CredentialsInput, by: string): Promise<RegistrationResult> {
    const store = this.requireStore();
    if (!(await store.summary(name))) throw notRegistered(name);
    return this.save(store, name, input, by, 'credentials replaced');
  }

  /**
   * Removes a registered cluster: its connection first (the watcher pool stops the
   * cluster when it sees the delete), then waits up to `deleteWaitMs` for the
   * cluster's lease to go, then deletes all its keys and its `knm:clusters` entry.
   */
  async remove(name: ClusterName, by: string): Promise<void> {
    const store = this.requireStore();
    if (!(await store.remove(name))) throw notRegistered(name);
    const stopped = await this.leaseGone(name);
    if (!stopped) {
      this.logger.warn(
        { cluster: name, waitedMs: this.config.deleteWaitMs },
        "the cluster's lease outlived the wait: deleting its keys anyway (the deleted epoch fences its leader)",
      );
    }
    const keys = await purgeClusterKeys(this.redis, this.keyspace, name);
    this.logger.info({ cluster: name, by, keys }, 'cluster removed');
  }

  private async save(
    store: ClusterConnectionStore,
    name: ClusterName,
    input: CredentialsInput,
    by: string,
    what: string,
  ): Promise<RegistrationResult> {
    const { result, accepted } = await this.run(input);
    if (!result.ok || !accepted) throw new ConnectionTestFailedError(result);
    const { summary } = await store.put({
      name,
      server: accepted.server,
      kubeconfig: accepted.kubeconfig,
      context: accepted.context,
      by,
    });
    this.logger.info(
      { cluster: name, server: accepted.server, context: accepted.context, by },
      `cluster ${what}`,
    );
    return { cluster: summary, test: result };
  }

  private run(input: CredentialsInput): ReturnType<typeof testClusterConnection> {
    // The route's body limit allows for JSON escaping; the kubeconfig's own limit is this.
    if (new TextEncoder().encode(input.kubeconfig).length > MAX_KUBECONFIG_BYTES) {
      throw new PayloadTooLargeException(`a kubeconfig may be ${MAX_KUBECONFIG_BYTES / 1024} KiB at most`);
    }
    return testClusterConnection(input.kubeconfig, {
      execAllowlist: this.config.execAllowlist,
      requestTimeoutMs: this.config.connectionTestTimeoutMs,
      ...(input.context !== undefined ? { context: input.context } : {}),
    });
  }

  private async leaseGone(name: ClusterName): Promise<boolean> {
    const lease = this.keyspace.cluster(name).lease;
    const deadline = Date.now() + this.config.deleteWaitMs;
    for (;;) {
      if ((await this.redis.exists(lease)) === 0) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, LEASE_POLL_MS));
    }
  }

  private requireStore(): ClusterConnectionStore {
    if (!this.store) {
      throw new ServiceUnavailableException(
        'registering clusters needs KNM_SECRETS_KEY (a 32-byte key, `openssl rand -base64 32`): credentials are stored encrypted with it',
      );
    }
    return this.store;
  }
}

function notRegistered(name: ClusterName): NotFoundError {
  return new NotFoundError(
    `cluster "${name}" is not registered at runtime (a cluster given to a watcher on its command line is removed by stopping that watcher)`,
  );
}
