import { timingSafeEqual } from 'node:crypto';
import { Controller, Get, Header, Headers, Inject, ServiceUnavailableException } from '@nestjs/common';
import { AuthenticationError } from '@knm/auth';
import type { RedisClient } from '@knm/node-store';
import { GATEWAY_CONFIG, REDIS } from '../common/injection-tokens.js';
import type { GatewayConfig } from '../config/gateway-config.js';
import { Public } from '../auth/public.decorator.js';
import { GatewayMetrics } from './gateway-metrics.js';

/**
 * Endpoints outside the user tokens: liveness, readiness (Redis answers PING within
 * 1 s) and Prometheus metrics. The metrics carry cluster names as labels: open by
 * default (scrapers on the private network), or behind `KNM_METRICS_TOKEN`.
 */
@Public()
@Controller()
export class HealthController {
  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    @Inject(GatewayMetrics) private readonly metrics: GatewayMetrics,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  @Get('healthz')
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('readyz')
  async readyz(): Promise<{ status: 'ready' }> {
    try {
      await Promise.race([
        this.redis.ping(),
        new Promise((_, reject) => setTimeout(() => reject(new Error('PING timed out')), 1_000).unref()),
      ]);
    } catch (err) {
      throw new ServiceUnavailableException(`Redis is not reachable (${(err as Error).message})`);
    }
    return { status: 'ready' };
  }

  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  metricsText(@Headers('authorization') authorization: string | undefined): Promise<string> {
    const expected = this.config.metricsToken;
    if (expected !== undefined && !sameSecret(authorization ?? '', `Bearer ${expected}`)) {
      throw new AuthenticationError(
        authorization === undefined ? 'missing' : 'invalid',
        '/metrics needs Authorization: Bearer <KNM_METRICS_TOKEN>',
      );
    }
    return this.metrics.registry.metrics();
  }
}

/** Compares two strings in time independent of where they differ. */
function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
