import type { ClusterName } from '@knm/contracts';
import type { ClusterPosition } from '@knm/node-store';
import type { CachedAnswer } from './answer-reply.js';
import { BodyEncoder, MIN_COMPRESSED_BYTES } from './body-encoder.js';
import { acceptsIdentity, negotiateCoding, type ContentCoding } from './content-coding.js';
import { clusterState, entityTag, ifNoneMatchMatches } from './entity-tag.js';
import type { ResponseCache } from './response-cache.js';

/**
 * Bodies from this size up are compressed behind the first answers of a state: a
 * 5,000-node list (12.5 MB) took 100 ms and more of brotli on this machine, longer
 * than sending it uncompressed over a fast link, and a busy cluster has a new seq
 * every few seconds.
 */
const COMPRESS_BEHIND_BYTES = 256 * 1024;

/** What a request says about the answer it wants: its coding (negotiated) and the tags of the copies it holds. */
export interface ReadConditions {
  coding: ContentCoding;
  /** False when the client refused identity (`identity;q=0`): it must wait for the coded bytes. */
  acceptsIdentity: boolean;
  /** The `If-None-Match` header as sent. */
  ifNoneMatch: string | undefined;
}

/** A request's {@link ReadConditions} from its headers (406 when no coding it accepts can be sent). */
export function readConditions(headers: {
  'accept-encoding'?: string | string[] | undefined;
  'if-none-match'?: string | string[] | undefined;
}): ReadConditions {
  const join = (h: string | string[] | undefined) => (Array.isArray(h) ? h.join(',') : h);
  const acceptEncoding = join(headers['accept-encoding']);
  return {
    coding: negotiateCoding(acceptEncoding),
    acceptsIdentity: acceptsIdentity(acceptEncoding),
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
    return this.encoded(cluster, produced, key, conditions.coding, conditions.acceptsIdentity);
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

  /**
   * `produced` in `coding`, compressed once per state and kept beside its identity
   * body. A body of {@link COMPRESS_BEHIND_BYTES} or more is compressed behind: the
   * requests that find it not yet compressed get identity at once (unless the client
   * refused identity), rather than waiting for brotli over megabytes at every new seq.
   */
  private async encoded(
    cluster: ClusterName,
    produced: ProducedBody,
    key: string,
    coding: ContentCoding,
    acceptsIdentity: boolean,
  ): Promise<CachedAnswer> {
    const state = clusterState(produced.at, key);
    if (coding === 'identity' || produced.body.length < MIN_COMPRESSED_BYTES) {
      return { status: 200, body: produced.body, coding: 'identity', etag: entityTag(state, 'identity') };
    }
    const codedKey = `${key}\n${coding}`;
    const at = produced.at;
    let body = this.bodies.get(cluster, at, codedKey);
    if (!body) {
      const compressing = this.encoder
        .encode(`${cluster}\n${at.registeredAt}\n${at.epoch}.${at.seq}\n${key}`, produced.body, coding)
        .then((coded) => {
          this.bodies.set(cluster, at, codedKey, coded);
          return coded;
        });
      if (produced.body.length >= COMPRESS_BEHIND_BYTES && acceptsIdentity) {
        // Compressed behind: this answer goes at once, in identity; the next ones at this state get the coded bytes.
        compressing.catch(() => undefined);
        return { status: 200, body: produced.body, coding: 'identity', etag: entityTag(state, 'identity') };
      }
      body = await compressing;
    }
    return { status: 200, body, coding, etag: entityTag(state, coding) };
  }
}
