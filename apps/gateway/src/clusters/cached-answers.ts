import type { ClusterName } from '@knm/contracts';
import type { ClusterPosition } from '@knm/node-store';
import type { CachedAnswer } from './answer-reply.js';
import { BodyEncoder, MIN_COMPRESSED_BYTES } from './body-encoder.js';
import { negotiateCoding, type ContentCoding } from './content-coding.js';
import { clusterState, entityTag, ifNoneMatchMatches } from './entity-tag.js';
import type { ResponseCache } from './response-cache.js';

/** What a request says about the answer it wants: its coding (negotiated) and the tags of the copies it holds. */
export interface ReadConditions {
  coding: ContentCoding;
  /** The `If-None-Match` header as sent. */
  ifNoneMatch: string | undefined;
}

/** A request's {@link ReadConditions} from its headers (406 when no coding it accepts can be sent). */
export function readConditions(headers: {
  'accept-encoding'?: string | string[] | undefined;
  'if-none-match'?: string | string[] | undefined;
}): ReadConditions {
  const join = (h: string | string[] | undefined) => (Array.isArray(h) ? h.join(',') : h);
  return {
    coding: negotiateCoding(join(headers['accept-encoding'])),
    ifNoneMatch: join(headers['if-none-match']),
  };
}

/** An identity body and the cluster state it was computed from (at or after the position read before). */
export interface ProducedBody {
  at: ClusterPosition;
  body: Buffer;
}

/**
 * The answers of one cluster's cacheable reads (node lists, a node, pod counts, the
 * resources rollup): each serialized once per (cluster state, key), compressed once
 * per coding and kept beside it in one {@link ResponseCache}, and revalidated by
 * entity tag, so a client whose copy is current gets a 304 before anything but the
 * cluster's position is read.
 */
export class CachedAnswers {
  private readonly encoder = new BodyEncoder();

  constructor(readonly bodies: ResponseCache) {}

  /**
   * The answer `key` of `cluster` for a request whose position read gave `at`:
   * 304 when the client holds the tag of the state at `at` (in the negotiated coding,
   * or identity: the same bytes before coding, still current), or sent `*` and the
   * answer exists; else the cached body
   * at `at`, or `produce`'s (which may be of a later state: the tag says which), in
   * the negotiated coding (identity for bodies under {@link MIN_COMPRESSED_BYTES}).
   */
  async answer(
    cluster: ClusterName,
    at: ClusterPosition,
    key: string,
    conditions: ReadConditions,
    produce: () => Promise<ProducedBody>,
  ): Promise<CachedAnswer> {
    // `*` matches only an answer that exists: a missing node must stay a 404.
    const wildcard = conditions.ifNoneMatch?.trim() === '*';
    const current = wildcard ? undefined : this.notModified(clusterState(at, key), conditions);
    if (current) return current;
    const cached = this.bodies.get(cluster, at, key);
    const produced = cached ? { at, body: cached } : await produce();
    if (!cached) this.bodies.set(cluster, produced.at, key, produced.body);
    if (wildcard || produced.at.seq !== at.seq || produced.at.epoch !== at.epoch) {
      const later = this.notModified(clusterState(produced.at, key), conditions);
      if (later) return later;
    }
    return this.encoded(cluster, produced, key, conditions.coding);
  }

  /**
   * A 304 when `If-None-Match` names the state's tag in the negotiated coding or in
   * identity. Accepting the identity tag for a compressed request matters for small
   * bodies, which are always sent in identity, and is true of large ones too: the
   * client's copy holds the same data.
   */
  notModified(state: ReturnType<typeof clusterState>, conditions: ReadConditions): CachedAnswer | undefined {
    if (conditions.ifNoneMatch === undefined) return undefined;
    const tag = entityTag(state, conditions.coding);
    if (ifNoneMatchMatches(conditions.ifNoneMatch, tag)) return { status: 304, etag: tag };
    if (conditions.coding === 'identity') return undefined;
    const identity = entityTag(state, 'identity');
    return ifNoneMatchMatches(conditions.ifNoneMatch, identity) ? { status: 304, etag: identity } : undefined;
  }

  /** `produced` in `coding`, compressed once per state and kept beside its identity body. */
  private async encoded(
    cluster: ClusterName,
    produced: ProducedBody,
    key: string,
    coding: ContentCoding,
  ): Promise<CachedAnswer> {
    const state = clusterState(produced.at, key);
    if (coding === 'identity' || produced.body.length < MIN_COMPRESSED_BYTES) {
      return { status: 200, body: produced.body, coding: 'identity', etag: entityTag(state, 'identity') };
    }
    const codedKey = `${key}\n${coding}`;
    let body = this.bodies.get(cluster, produced.at, codedKey);
    if (!body) {
      const at = produced.at;
      body = await this.encoder.encode(
        `${cluster}\n${at.registeredAt}\n${at.epoch}.${at.seq}\n${key}`,
        produced.body,
        coding,
      );
      this.bodies.set(cluster, at, codedKey, body);
    }
    return { status: 200, body, coding, etag: entityTag(state, coding) };
  }
}
