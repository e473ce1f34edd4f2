import {
  ClusterConnectionChangeSchema,
  ClusterConnectionRecordSchema,
  ClusterCredentialsSchema,
  decodeJson,
  type ClusterConnectionChange,
  type ClusterConnectionRecord,
  type ClusterConnectionSummary,
  type ClusterCredentials,
  type ClusterName,
  type Keyspace,
} from '@knm/contracts';
import type { RedisClient } from '@knm/node-store';
import type { SecretBox } from '@knm/secrets';

/** A registered cluster with its credentials opened: what a watcher needs to connect. */
export interface ClusterConnection extends ClusterConnectionSummary, ClusterCredentials {}

/** What registering or replacing a cluster's connection takes. */
export interface ClusterConnectionInput extends ClusterCredentials {
  name: ClusterName;
  /** The API server's URL the kubeconfig's context selects. */
  server: string;
  /** Who does it (a principal's subject), for the record. */
  by?: string;
}

/** The record's sealing context: a sealed value copied under another name does not open. */
const sealContext = (name: string): string => `cluster-connection:${name}`;

/**
 * The clusters registered at runtime, in Redis (`knm:connections`, one hash field per
 * cluster): credentials sealed with a {@link SecretBox} so that Redis, its backups and
 * anything that reads them never hold a kubeconfig in plain text. Every change is
 * published on `knm:connections:changes` in the same MULTI, for the watcher pool and
 * the gateways; a reader that missed one (pub/sub is at-most-once) re-reads
 * {@link list} on reconnect.
 */
export class ClusterConnectionStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keyspace: Keyspace,
    private readonly box: SecretBox,
  ) {}

  /** Registers or replaces a cluster's connection; `created` tells which. */
  async put(input: ClusterConnectionInput): Promise<{ created: boolean; summary: ClusterConnectionSummary }> {
    const now = new Date().toISOString();
    const previous = await this.record(input.name);
    const credentials: ClusterCredentials = { kubeconfig: input.kubeconfig, context: input.context };
    const record: ClusterConnectionRecord = {
      name: input.name,
      server: input.server,
      context: input.context,
      sealed: this.box.seal(JSON.stringify(credentials), sealContext(input.name)),
      createdAt: previous?.createdAt ?? now,
      updatedAt: now,
      createdBy: previous ? previous.createdBy : input.by,
      updatedBy: input.by,
    };
    await this.write(record.name, JSON.stringify(record), 'put');
    return { created: previous === undefined, summary: summarize(record) };
  }

  /** Removes a cluster's connection; false when there was none. */
  async remove(name: ClusterName): Promise<boolean> {
    const change: ClusterConnectionChange = { name, op: 'delete' };
    const [removed] = await execChecked(
      this.redis
        .multi()
        .hdel(this.keyspace.connections, name)
        .publish(this.keyspace.connectionChanges, JSON.stringify(change)),
    );
    return removed === 1;
  }

  /** Every registered cluster without its credentials, by name. */
  async summaries(): Promise<ClusterConnectionSummary[]> {
    return (await this.records()).map(summarize);
  }

  /** One cluster without its credentials. */
  async summary(name: ClusterName): Promise<ClusterConnectionSummary | undefined> {
    const record = await this.record(name);
    return record && summarize(record);
  }

  /** One cluster with its credentials opened (for a watcher). */
  async get(name: ClusterName): Promise<ClusterConnection | undefined> {
    const record = await this.record(name);
    return record && this.open(record);
  }

  /** Every registered cluster with its credentials opened, by name. */
  async list(): Promise<ClusterConnection[]> {
    return (await this.records()).map((record) => this.open(record));
  }

  /**
   * Re-seals every record sealed under an earlier key with the current one (the
   * middle step of a key rotation); answers how many were re-sealed.
   */
  async reseal(): Promise<number> {
    let count = 0;
    for (const record of await this.records()) {
      if (!this.box.needsReseal(record.sealed)) continue;
      const credentials = this.credentials(record);
      const resealed = {
        ...record,
        sealed: this.box.seal(JSON.stringify(credentials), sealContext(record.name)),
      };
      await this.write(record.name, JSON.stringify(resealed), 'put');
      count += 1;
    }
    return count;
  }

  /** Decodes a message of `knm:connections:changes` (throws a ContractError when it is not one). */
  static decodeChange(message: string): ClusterConnectionChange {
    return decodeJson(ClusterConnectionChangeSchema, message, 'cluster connection change');
  }

  private async write(name: ClusterName, json: string, op: ClusterConnectionChange['op']): Promise<void> {
    const change: ClusterConnectionChange = { name, op };
    await execChecked(
      this.redis
        .multi()
        .hset(this.keyspace.connections, name, json)
        .publish(this.keyspace.connectionChanges, JSON.stringify(change)),
    );
  }

  private async record(name: ClusterName): Promise<ClusterConnectionRecord | undefined> {
    const raw = await this.redis.hget(this.keyspace.connections, name);
    return raw === null ? undefined : this.decode(name, raw);
  }

  private async records(): Promise<ClusterConnectionRecord[]> {
    const all = await this.redis.hgetall(this.keyspace.connections);
    return Object.entries(all)
      .map(([name, raw]) => this.decode(name, raw))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  private decode(name: string, raw: string): ClusterConnectionRecord {
    return decodeJson(ClusterConnectionRecordSchema, raw, `${this.keyspace.connections} entry ${name}`);
  }

  private credentials(record: ClusterConnectionRecord): ClusterCredentials {
    return decodeJson(
      ClusterCredentialsSchema,
      this.box.open(record.sealed, sealContext(record.name)),
      `credentials of cluster ${record.name}`,
    );
  }

  private open(record: ClusterConnectionRecord): ClusterConnection {
    return { ...summarize(record), ...this.credentials(record) };
  }
}

function summarize(record: ClusterConnectionRecord): ClusterConnectionSummary {
  const { sealed: _sealed, ...summary } = record;
  return summary;
}

/** Runs a MULTI and answers its replies; a discarded transaction or a failed command throws. */
async function execChecked(multi: ReturnType<RedisClient['multi']>): Promise<unknown[]> {
  const replies = await multi.exec();
  if (!replies) throw new Error('Redis discarded the transaction');
  return replies.map(([error, reply]) => {
    if (error) throw error;
    return reply;
  });
}
