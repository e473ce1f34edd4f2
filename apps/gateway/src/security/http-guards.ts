import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorBody } from '@knm/contracts';
import type { RateLimitDecision, RateLimiter } from './rate-limiter.js';
import { RateLimitedError } from './rate-limiter.js';

/** Paths the auth-failure limit guards: the API, minus its open documentation. */
function guarded(url: string): boolean {
  return url.startsWith('/api/') && !url.startsWith('/api/docs');
}

/**
 * The client address of `request` for the limits: Fastify's `request.ip` is undefined
 * when the socket closed before the hooks ran (a malformed request Node's parser
 * already refused); those all count as one address, `unknown`.
 */
function clientOf(request: FastifyRequest): string {
  const ip: string | undefined = request.ip;
  return ip ?? 'unknown';
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The route peeks the auth-failure limit itself ({@link authFailurePeek}), at once
     * and beside its own Redis reads, and refuses with {@link sendTooManyRequests}
     * before answering anything else: the limit's `onRequest` hook leaves it alone.
     */
    peeksAuthFailures?: boolean;
  }
}

/**
 * Whether the client of `request` is over the auth-failure limit: the refusal to
 * answer (429), or undefined. The read starts now (a route that peeks itself sends it
 * in the same pipeline as its own reads).
 */
export async function authFailurePeek(
  limiter: RateLimiter,
  request: FastifyRequest,
): Promise<RateLimitedError | undefined> {
  const client = clientOf(request);
  const decision = await limiter.peek(client);
  return decision.allowed ? undefined : authFailureRefusal(decision, client);
}

/** Sends a 429 JSON error with `Retry-After`. */
export function sendTooManyRequests(reply: FastifyReply, err: RateLimitedError): FastifyReply {
  const body: ErrorBody = { statusCode: 429, error: 'Too Many Requests', message: err.message };
  return reply
    .code(429)
    .header('retry-after', String(err.retryAfterSeconds))
    .header('content-type', 'application/json; charset=utf-8')
    .send(body);
}

/** The error for an address over the auth-failure limit. */
export function authFailureRefusal(decision: RateLimitDecision, address: string): RateLimitedError {
  return RateLimitedError.of(decision, `too many failed authentications from ${address}`);
}

/**
 * Counts every 401 of the API per client address (`request.ip`, which honours
 * `KNM_TRUST_PROXY` only) in `limiter`, and answers 429 with `Retry-After` to every API
 * request from an address over the limit, before its token is even looked at.
 */
export function installAuthFailureLimit(fastify: FastifyInstance, limiter: RateLimiter): void {
  if (!limiter.enabled) return;
  // Callback hooks, not async ones: most requests pass them untouched, without a promise each.
  fastify.addHook('onRequest', (request, reply, done) => {
    if (!guarded(request.url) || request.routeOptions.config.peeksAuthFailures) return done();
    authFailurePeek(limiter, request).then((refusal) => {
      if (refusal) sendTooManyRequests(reply, refusal);
      else done();
    }, done);
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    if (reply.statusCode !== 401 || !guarded(request.url)) return done();
    limiter.hit(clientOf(request)).then(() => done(), done);
  });
}

/** How deep `value` nests (a scalar is 0, `{}` and `[]` are 1); stops counting past `limit`. */
export function jsonDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop() as [unknown, number];
    if (item === null || typeof item !== 'object') continue;
    const here = depth + 1;
    if (here > deepest) deepest = here;
    if (deepest > limit) return deepest;
    for (const child of Object.values(item)) stack.push([child, here]);
  }
  return deepest;
}

/**
 * Checks request bodies before any handler or schema sees them: a body that is not
 * `application/json` is 415, a JSON body nested deeper than `maxDepth` is 400 (the
 * size limit, 413, is Fastify's `bodyLimit`; malformed JSON and `__proto__` keys are
 * Fastify's 400).
 */
export function installBodyChecks(fastify: FastifyInstance, maxDepth: number): void {
  // A callback hook: requests without a body (every GET) pass it without a promise each.
  fastify.addHook('preValidation', (request, reply, done) => {
    if (request.body === undefined) return done();
    const send = (statusCode: 400 | 415, error: string, message: string): void => {
      const body: ErrorBody = { statusCode, error, message };
      void reply.code(statusCode).header('content-type', 'application/json; charset=utf-8').send(body);
    };
    const type = String(request.headers['content-type'] ?? '');
    if (!/^application\/json\s*(;|$)/i.test(type)) {
      return send(
        415,
        'Unsupported Media Type',
        'the request body must be JSON (Content-Type: application/json)',
      );
    }
    if (jsonDepth(request.body, maxDepth) > maxDepth) {
      return send(400, 'Bad Request', `the JSON body nests deeper than ${maxDepth} levels`);
    }
    return done();
  });
}
