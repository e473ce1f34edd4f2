import {
  HistoryRecordSchema,
  IncidentSchema,
  type ClusterName,
  type HistoryEntry,
  type Incident,
  type Keyspace,
} from '@knm/contracts';
import type { RedisClient } from './redis-client.js';

/** One page of a node's history, newest first; `next` is the `before` of the following page. */
export interface HistoryPageRead {
  items: HistoryEntry[];
  next?: string;
}

/** Which incidents {@link HistoryReader.incidents} returns. */
export interface IncidentFilter {
  /** `true`: only open ones; `false`: only closed ones; absent: both. */
  open?: boolean;
  /** Only incidents still open at, or that ended at or after, this time (ms). */
  sinceMs?: number;
}

/**
 * Reads what the leading watcher wrote of nodes' histories and incidents (the
 * writes are `NodeStoreWriter.applyNodeChanges`'s). Reads only; a stored value that
 * does not decode is left out rather than failing the answer.
 */
export class HistoryReader {
  constructor(
    private readonly redis: RedisClient,
    private readonly keyspace: Keyspace,
  ) {}

  /**
   * At most `limit` entries of the node's history written before the entry ID
   * `before` (absent: from the newest), newest first. Entry IDs order entries as
   * they were written, which is the order of the changes.
   */
  async nodeHistory(
    cluster: ClusterName,
    node: string,
    page: { limit: number; before?: string },
  ): Promise<HistoryPageRead> {
    const key = `${this.keyspace.cluster(cluster).historyPrefix}${node}`;
    const raw = await this.redis.xrevrange(
      key,
      page.before === undefined ? '+' : `(${page.before}`,
      '-',
      'COUNT',
      page.limit + 1,
    );
    const items: HistoryEntry[] = [];
    for (const [id, fields] of raw.slice(0, page.limit)) {
      const record = decodeField(fields, 'h');
      const parsed = record === undefined ? undefined : HistoryRecordSchema.safeParse(record);
      if (parsed?.success) items.push({ ...parsed.data, id });
    }
    const last = raw[page.limit - 1];
    return raw.length > page.limit && last ? { items, next: last[0] } : { items };
  }

  /** The cluster's incidents that pass `filter`, newest start first. */
  async incidents(cluster: ClusterName, filter: IncidentFilter = {}): Promise<Incident[]> {
    const keys = this.keyspace.cluster(cluster);
    const min =
      filter.open === true ? '+inf' : filter.sinceMs === undefined ? '-inf' : String(filter.sinceMs);
    const max = filter.open === false ? '(+inf' : '+inf';
    const ids = await this.redis.zrangebyscore(keys.incidents, min, max);
    if (ids.length === 0) return [];
    const values = await this.redis.hmget(keys.incidentData, ...ids);
    const out: Incident[] = [];
    for (const value of values) {
      if (value === null) continue;
      try {
        const parsed = IncidentSchema.safeParse(JSON.parse(value));
        if (parsed.success) out.push(parsed.data);
      } catch {
        // Left out: see the class comment.
      }
    }
    return out.sort((a, b) => Date.parse(b.start) - Date.parse(a.start) || b.node.localeCompare(a.node));
  }
}

function decodeField(fields: readonly string[], name: string): unknown {
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] !== name) continue;
    try {
      return JSON.parse(fields[i + 1] as string);
    } catch {
      return undefined;
    }
  }
  return undefined;
}
