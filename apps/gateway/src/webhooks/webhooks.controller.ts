import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { assertRole, type Principal } from '@knm/auth';
import {
  WebhookSinkInputSchema,
  type WebhookSinkListResponse,
  type WebhookSinkSettings,
  type WebhookSinkSummary,
  type WebhookTestResponse,
} from '@knm/contracts';
import { postWebhook, type WebhookSinkStore } from '@knm/notifications';
import { CurrentPrincipal } from '../auth/request-principal.js';
import { NotFoundError, UpstreamError } from '../common/error-body.js';
import { WEBHOOK_SINKS } from '../common/injection-tokens.js';
import { ZodPipe } from '../common/zod.pipe.js';

/** How long the test message may take before the answer says the receiver did not answer. */
const TEST_TIMEOUT_MS = 10_000;

const sinkInput = new ZodPipe(WebhookSinkInputSchema, 'webhook sink');

/**
 * Where incidents are notified (admin only): `GET /api/v1/webhooks`, `POST` (201 with
 * the sink, its URL never shown again: only `target`, scheme and host), `DELETE
 * /api/v1/webhooks/:id` (204), `POST /api/v1/webhooks/:id/test` (sends a test message
 * now: 200 with the receiver's status, or 502 saying why it failed). Without
 * `KNM_SECRETS_KEY` there is nowhere safe to keep a URL: 503.
 */
@Controller('api/v1/webhooks')
export class WebhooksController {
  constructor(@Inject(WEBHOOK_SINKS) private readonly sinks: WebhookSinkStore | undefined) {}

  @Get()
  async list(@CurrentPrincipal() principal: Principal): Promise<WebhookSinkListResponse> {
    assertRole(principal, 'admin');
    return { items: await this.store().summaries() };
  }

  @Post()
  @HttpCode(201)
  async add(
    @CurrentPrincipal() principal: Principal,
    @Body(sinkInput) body: WebhookSinkSettings,
  ): Promise<WebhookSinkSummary> {
    assertRole(principal, 'admin');
    return this.store().add(body, principal.sub);
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<void> {
    assertRole(principal, 'admin');
    if (!(await this.store().remove(id))) throw new NotFoundError(`no webhook sink "${id}"`);
  }

  @Post(':id/test')
  @HttpCode(200)
  async test(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
  ): Promise<WebhookTestResponse> {
    assertRole(principal, 'admin');
    const sink = await this.store().open(id);
    if (!sink) throw new NotFoundError(`no webhook sink "${id}"`);
    const deliveryId = `test/${randomUUID()}`;
    const clusters = sink.record.clusters;
    const cluster = clusters === '*' ? '*' : (clusters[0] ?? '*');
    try {
      const status = await postWebhook(
        sink,
        { deliveryId, cluster, kind: 'test', transitions: [] },
        TEST_TIMEOUT_MS,
      );
      return { delivered: true, status, deliveryId };
    } catch (err) {
      throw new UpstreamError(502, `the test message was not delivered: ${(err as Error).message}`);
    }
  }

  private store(): WebhookSinkStore {
    if (!this.sinks) {
      throw new UpstreamError(
        503,
        'webhook sinks need KNM_SECRETS_KEY (their URLs are stored encrypted); it is not set',
      );
    }
    return this.sinks;
  }
}
