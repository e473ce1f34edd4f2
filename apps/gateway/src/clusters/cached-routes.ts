import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { ClusterNameSchema, NodeListQuerySchema, type ClusterName } from '@knm/contracts';
import type { RequestAuthenticator } from '../auth/request-authenticator.js';
import { DecodeMemo, rawQuery } from '../common/decode-memo.js';
import { sendError } from '../common/http-error.filter.js';
import { authFailurePeek, sendTooManyRequests } from '../security/http-guards.js';
import type { RateLimiter } from '../security/rate-limiter.js';
import { sendAnswer, type CachedAnswer } from './answer-reply.js';
import { readConditions } from './cached-answers.js';
import type { ClusterDataService } from './cluster-data.service.js';

/** Longest staleness a client may accept for a node list (`Cache-Control: max-stale`, seconds). */
const MAX_STALE_MS = 1_000;

/**
 * The staleness a request accepts: `max-stale=N` (seconds), capped at
 * {@link MAX_STALE_MS}; a bare `max-stale` means the cap; none means a fresh answer.
 */
export function maxStaleMs(cacheControl: string | undefined): number {
  const match = /(?:^|,)\s*max-stale(?:\s*=\s*"?(\d+)"?)?\s*(?:,|$)/i.exec(cacheControl ?? '');
  if (!match) return 0;
  return match[1] === undefined ? MAX_STALE_MS : Math.min(MAX_STALE_MS, Number(match[1]) * 1000);
}

/** What the cached routes use. */
export interface CachedRoutesDeps {
  data: ClusterDataService;
  authenticator: RequestAuthenticator;
  /** The auth-failure limit (`AUTH_FAILURE_LIMITER`), peeked before anything is answered. */
  authFailures: RateLimiter;
  logger: Logger;
}

/** A cached route's answer for an authenticated request naming a valid cluster. */
type Answerer = (request: FastifyRequest, cluster: ClusterName) => Promise<CachedAnswer>;

/**
 * The cached REST reads of one cluster, served by Fastify directly rather than
 * through Nest's router: `GET /api/v1/clusters/:cluster/nodes` (filtered, sorted,
 * paged), `.../nodes/:node`, `.../pod-counts` and `.../resources`. Under load their
 * answer is a body already serialized (and compressed) at the cluster's state, and
 * Nest's per-request machinery (execution context, guard and pipe chains, parameter
 * decorators) cost more than the answer. Everything else of the pipeline still
 * applies, in the same order as for Nest's routes: the Fastify hooks (security
 * headers, CORS, metrics, the 401 count), then the auth-failure limit (429), the
 * token and its cluster scope ({@link RequestAuthenticator}: 401, 403), the cluster
 * name (400), the route's own checks (query 400, coding 406), and errors answered as
 * the Nest filter answers them ({@link sendError}).
 *
 * The auth-failure peek and the cluster's position read (the answer's first Redis
 * read) start in the same turn of the event loop when the token was verified before,
 * so ioredis sends them in one pipeline and the request waits for one round trip, not
 * two in a row. Both are reads sent after the request arrived: an answer is never
 * older than its request, and a refused one (429) is never answered otherwise.
 */
export function installCachedRoutes(fastify: FastifyInstance, deps: CachedRoutesDeps): void {
  const { data } = deps;
  const clusters = new DecodeMemo(ClusterNameSchema, 'cluster name in the path');
  const queries = new DecodeMemo(NodeListQuerySchema, 'node list query');
  const route = (url: string, answer: Answerer): void => {
    fastify.get(url, { config: { peeksAuthFailures: true } }, (request, reply) =>
      serve(deps, request, reply, (req) => {
        // Checked once the token's scope has been (a 403 before a 400, as with Nest's guard and pipes).
        const name = (req.params as { cluster: string }).cluster;
        return answer(req, clusters.decode(name, name));
      }),
    );
  };
  route('/api/v1/clusters/:cluster/nodes', (request, cluster) => {
    const query = queries.decode(rawQuery(request.url), request.query);
    const conditions = readConditions(request.headers);
    return data.listNodes(cluster, query, conditions, maxStaleMs(request.headers['cache-control']));
  });
  route('/api/v1/clusters/:cluster/nodes/:node', (request, cluster) =>
    data.getNode(cluster, (request.params as { node: string }).node, readConditions(request.headers)),
  );
  route('/api/v1/clusters/:cluster/pod-counts', (request, cluster) =>
    data.podCounts(cluster, readConditions(request.headers)),
  );
  route('/api/v1/clusters/:cluster/resources', (request, cluster) =>
    data.resources(cluster, readConditions(request.headers)),
  );
}

async function serve(
  deps: CachedRoutesDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  answer: (request: FastifyRequest) => Promise<CachedAnswer>,
): Promise<FastifyReply> {
  const refusal = deps.authFailures.enabled ? authFailurePeek(deps.authFailures, request) : undefined;
  let answering: Promise<CachedAnswer>;
  try {
    const principal = deps.authenticator.authenticate(request);
    answering = principal instanceof Promise ? principal.then(() => answer(request)) : answer(request);
  } catch (err) {
    answering = Promise.reject(err);
  }
  // Settled below, once the limit has been peeked: no unhandled rejection meanwhile.
  answering.catch(() => undefined);
  const refused = refusal && (await refusal);
  if (refused) return sendTooManyRequests(reply, refused);
  try {
    return sendAnswer(reply, await answering);
  } catch (err) {
    sendError(deps.logger, err, request, reply);
    return reply;
  }
}
