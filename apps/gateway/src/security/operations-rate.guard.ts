import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { requestPrincipal } from '../auth/request-principal.js';
import { RateLimitedError, type RateLimiter } from './rate-limiter.js';
import { OPS_RATE_LIMITER } from './security.tokens.js';

/**
 * Limits operation requests per token subject (`KNM_OPS_RATE_LIMIT` per
 * `KNM_OPS_RATE_WINDOW_MS`, shared by every replica): over the limit, 429 with
 * `Retry-After`. Runs after the global auth guard, so only authenticated callers count.
 */
@Injectable()
export class OperationsRateGuard implements CanActivate {
  constructor(@Inject(OPS_RATE_LIMITER) private readonly limiter: RateLimiter) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const principal = requestPrincipal(context.switchToHttp().getRequest<object>());
    const decision = await this.limiter.hit(principal.sub);
    if (!decision.allowed) {
      throw RateLimitedError.of(decision, `too many operation requests by "${principal.sub}"`);
    }
    return true;
  }
}
