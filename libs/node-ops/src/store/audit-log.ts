import type { RedisClient } from '@knm/node-store';
import {
  AuditRecordSchema,
  decodeJson,
  ContractError,
  type AuditQuery,
  type AuditRecord,
  type Keyspace,
} from '@knm/contracts';

/** Options of {@link AuditLog}. */
export interface AuditLogOptions {
  /** Approximate cap of the stream (`XADD MAXLEN ~`). Default 100,000. */
  maxLen?: number;
  /** Records older than this are trimmed (`XTRIM MINID ~`) on each append. Default 90 days. */
  retentionMs?: number;
  /** Time source. Default `Date.now`. */
  now?: () => number;
  /** Called with a stream entry that does not decode (it is skipped). */
  onInvalid?: (id: string, err: ContractError) => void;
}

/** Entries read per XREVRANGE while filtering. */
const PAGE = 500;

/**
 * The audit trail of node operations: the `knm:audit` stream (field `r`, one
 * {@link AuditRecord} JSON per finished operation), capped by length and by age.
 * Queries walk it newest first and filter by cluster, user, action and time.
 */
export class AuditLog {
  private readonly maxLen: number;
  private readonly retentionMs: number;
  private readonly now: () => number;

  constructor(
    private readonly redis: RedisClient,
    private readonly keyspace: Keyspace,
    private readonly options: AuditLogOptions = {},
  ) {
    this.maxLen = options.maxLen ?? 100_000;
    this.retentionMs = options.retentionMs ?? 90 * 86_400_000;
    this.now = options.now ?? Date.now;
  }

  /** Appends a record; resolves with its stream id. */
  async append(record: AuditRecord): Promise<string> {
    const { id: _ignored, ...body } = record;
    const id = await this.redis.xadd(
      this.keyspace.audit,
      'MAXLEN',
      '~',
      String(this.maxLen),
      '*',
      'r',
      JSON.stringify(body),
    );
    await this.redis.xtrim(
      this.keyspace.audit,
      'MINID',
      '~',
      String(Math.max(0, this.now() - this.retentionMs)),
    );
    return id ?? '';
  }

  /**
   * Records matching `query`, newest first, at most `query.limit`, only of clusters
   * `allowed` says yes to. `since`/`until` bound the entry time (inclusive).
   */
  async query(query: AuditQuery, allowed: (cluster: string) => boolean): Promise<AuditRecord[]> {
    const out: AuditRecord[] = [];
    let end = query.until !== undefined ? String(Date.parse(query.until)) : '+';
    const start = query.since !== undefined ? String(Date.parse(query.since)) : '-';
    for (;;) {
      const entries = await this.redis.xrevrange(this.keyspace.audit, end, start, 'COUNT', PAGE);
      for (const [id, fields] of entries) {
        const at = fields.indexOf('r');
        const raw = at >= 0 ? fields[at + 1] : undefined;
        if (raw === undefined) continue;
        let record: AuditRecord;
        try {
          record = decodeJson(AuditRecordSchema, raw, `audit entry ${id}`);
        } catch (err) {
          if (err instanceof ContractError) {
            this.options.onInvalid?.(id, err);
            continue;
          }
          throw err;
        }
        if (!allowed(record.cluster)) continue;
        if (query.cluster !== undefined && record.cluster !== query.cluster) continue;
        if (query.user !== undefined && record.user !== query.user) continue;
        if (query.action !== undefined && record.action !== query.action) continue;
        out.push({ ...record, id });
        if (out.length >= query.limit) return out;
      }
      if (entries.length < PAGE) return out;
      const last = entries[entries.length - 1];
      if (!last) return out;
      end = `(${last[0]}`;
    }
  }
}
