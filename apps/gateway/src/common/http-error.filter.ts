import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { loggableUrl } from '../security/gateway-logger.js';
import { RateLimitedError } from '../security/rate-limiter.js';
import { UpstreamError, errorBodyOf } from './error-body.js';

/**
 * Turns every error of an HTTP handler, guard or pipe into the JSON error body
 * (`{ statusCode, error, message, details? }`; a 429 also carries `Retry-After`). 5xx are logged with their stack;
 * 4xx are the caller's problem and logged at debug.
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') return;
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    const body = errorBodyOf(exception);
    if (exception instanceof UpstreamError) {
      // Another process's state (no watcher, a slow one), not a gateway fault: no stack.
      this.logger.warn(
        { status: body.statusCode, url: loggableUrl(request.url), reason: body.message },
        'upstream',
      );
    } else if (body.statusCode >= 500) {
      this.logger.error(
        { err: exception, method: request.method, url: loggableUrl(request.url) },
        'request failed',
      );
    } else {
      this.logger.debug(
        { status: body.statusCode, url: loggableUrl(request.url), reason: body.message },
        'request refused',
      );
    }
    if (exception instanceof RateLimitedError)
      void reply.header('retry-after', String(exception.retryAfterSeconds));
    void reply.status(body.statusCode).header('content-type', 'application/json; charset=utf-8').send(body);
  }
}
