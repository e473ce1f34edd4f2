import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { loggableUrl } from '../security/gateway-logger.js';
import { RateLimitedError } from '../security/rate-limiter.js';
import { UpstreamError, errorBodyOf } from './error-body.js';

/**
 * Answers `exception`, thrown while serving `request`, with its JSON error body
 * (`{ statusCode, error, message, details? }`; a 429 also carries `Retry-After`). 5xx
 * are logged with their stack; 4xx are the caller's problem and logged at debug.
 * What {@link HttpErrorFilter} does for Nest's routes, and the cached REST routes
 * (served by Fastify directly) for theirs.
 */
export function sendError(
  logger: Logger,
  exception: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const body = errorBodyOf(exception);
  if (exception instanceof UpstreamError) {
    // Another process's state (no watcher, a slow one), not a gateway fault: no stack.
    logger.warn({ status: body.statusCode, url: loggableUrl(request.url), reason: body.message }, 'upstream');
  } else if (body.statusCode >= 500) {
    logger.error({ err: exception, method: request.method, url: loggableUrl(request.url) }, 'request failed');
  } else if (logger.isLevelEnabled('debug')) {
    logger.debug(
      { status: body.statusCode, url: loggableUrl(request.url), reason: body.message },
      'request refused',
    );
  }
  if (exception instanceof RateLimitedError)
    void reply.header('retry-after', String(exception.retryAfterSeconds));
  void reply.status(body.statusCode).header('content-type', 'application/json; charset=utf-8').send(body);
}

/** Turns every error of a Nest HTTP handler, guard or pipe into its JSON error answer ({@link sendError}). */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') return;
    const http = host.switchToHttp();
    sendError(this.logger, exception, http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>());
  }
}
