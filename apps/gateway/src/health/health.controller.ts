import { Controller, Get, Header, Inject, ServiceUnavailableException } from '@nestjs/common';
import type { RedisClient } from '@knm/node-store';
import { REDIS } from '../app/tokens.js';
import { Public } from '../auth/public.decorator.js';
import { GatewayMetrics } from './gateway-metrics.js';

/** Open endpoints: liveness, readiness (Redis answers PING within 1 s) and Prometheus metrics. */
@Public()
@Controller()
export class HealthController {
  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    @Inject(GatewayMetrics) private readonly metrics: GatewayMetrics,
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
  metricsText(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
