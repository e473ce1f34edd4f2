import { randomUUID } from 'node:crypto';
import {
  decodeJson,
  WebhookSecretsSchema,
  WebhookSinkRecordSchema,
  type Keyspace,
  type WebhookSecrets,
  type WebhookSinkRecord,
  type WebhookSinkSettings,
  type WebhookSinkSummary,
} from '@knm/contracts';
import type { RedisClient } from '@knm/node-store';
import type { SecretBox } from '@knm/secrets';

/** A sink with its URL (and signing secret) opened: what a delivery needs. */
export interface OpenedWebhookSink {
  record: WebhookSinkRecord;
  secrets: WebhookSecrets;
}

const sealContext = (id: string): string => `webhook:${id}`;

/**
 * Where incidents are notified (`knm:webhooks`, one hash field per sink). A
 * receiver's URL usually is its secret (Slack's and Feishu's are), so it is sealed
 * with the {@link SecretBox} like cluster credentials, and answers show only
 * `target` (scheme and host).
 */
export class WebhookSinkStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keyspace: Keyspace,
    private readonly box: SecretBox,
  ) {}

  async add(settings: WebhookSinkSettings, by?: string): Promise<WebhookSinkSummary> {
    const id = randomUUID();
    const secrets: WebhookSecrets = { url: settings.url, signingSecret: settings.signingSecret };
    const record: WebhookSinkRecord = {
      id,
      name: settings.name,
      format: settings.format,
      target: new URL(settings.url).origin,
      clusters: settings.clusters,
      selector: settings.selector,
      events: settings.events,
      maxPerMinute: settings.maxPerMinute,
      sealed: this.box.seal(JSON.stringify(secrets), sealContext(id)),
      createdAt: new Date().toISOString(),
      createdBy: by,
    };
    await this.redis.hset(this.keyspace.webhooks, id, JSON.stringify(record));
    return summarize(record);
  }

  async remove(id: string): Promise<boolean> {
    return (await this.redis.hdel(this.keyspace.webhooks, id)) === 1;
  }

  async summaries(): Promise<WebhookSinkSummary[]> {
    return (await this.records()).map(summarize);
  }

  /** Every sink as stored (sealed), oldest first. */
  async records(): Promise<WebhookSinkRecord[]> {
    const all = await this.redis.hgetall(this.keyspace.webhooks);
    return Object.entries(all)
      .map(([id, raw]) => decodeJson(WebhookSinkRecordSchema, raw, `${this.keyspace.webhooks} entry ${id}`))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  /** One sink with its secrets opened; `undefined` when it was removed. */
  async open(id: string): Promise<OpenedWebhookSink | undefined> {
    const raw = await this.redis.hget(this.keyspace.webhooks, id);
    if (raw === null) return undefined;
    const record = decodeJson(WebhookSinkRecordSchema, raw, `${this.keyspace.webhooks} entry ${id}`);
    const secrets = decodeJson(
      WebhookSecretsSchema,
      this.box.open(record.sealed, sealContext(id)),
      `secrets of webhook ${id}`,
    );
    return { record, secrets };
  }
}

function summarize(record: WebhookSinkRecord): WebhookSinkSummary {
  const { sealed: _sealed, ...summary } = record;
  return summary;
}
