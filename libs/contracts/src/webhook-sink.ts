import { z } from 'zod';
import { AllowedClustersSchema } from './auth-claims.js';
import { parseLabelSelector, SelectorParseError } from './label-selector.js';

/** Message shapes a sink receives: knm's JSON, a Slack incoming webhook, a Feishu/Lark custom bot. */
export const WebhookFormatSchema = z.enum(['json', 'slack', 'feishu']);
export type WebhookFormat = z.infer<typeof WebhookFormatSchema>;

const httpUrl = z
  .url({ protocol: /^https?$/, error: 'url must be an http(s) URL' })
  .max(2_048, 'url is longer than 2,048 characters');

const selector = z
  .string()
  .max(1_024)
  .superRefine((text, ctx) => {
    try {
      parseLabelSelector(text);
    } catch (err) {
      if (!(err instanceof SelectorParseError)) throw err;
      ctx.addIssue({ code: 'custom', message: `selector: ${err.message}` });
    }
  });

/** `POST /api/v1/webhooks`: a sink to notify of incidents. */
export const WebhookSinkInputSchema = z
  .object({
    name: z.string().trim().min(1).max(100),
    format: WebhookFormatSchema,
    /** The receiver's URL; it often holds a secret (Slack's and Feishu's do), so it is stored sealed and never shown again. */
    url: httpUrl,
    /** Feishu/Lark "signature verification" secret, when the bot has one (sealed as well). */
    signingSecret: z.string().min(1).max(256).optional(),
    /** Clusters whose incidents it receives: `"*"` or names. Default all. */
    clusters: AllowedClustersSchema.default('*'),
    /** Only nodes matching this label selector. Default every node. */
    selector: selector.optional(),
    /** Which transitions. Default both. */
    events: z
      .array(z.enum(['opened', 'resolved']))
      .min(1)
      .default(['opened', 'resolved']),
    /** At most this many messages a minute to this sink; more wait for the next minute. Default 20. */
    maxPerMinute: z.number().int().min(1).max(600).default(20),
  })
  .strict();
export type WebhookSinkInput = z.input<typeof WebhookSinkInputSchema>;
export type WebhookSinkSettings = z.output<typeof WebhookSinkInputSchema>;

/** A sink as stored in `knm:webhooks`: URL and signing secret sealed; `target` is what may be shown. */
export const WebhookSinkRecordSchema = z.object({
  id: z.string().min(1),
  name: z.string(),
  format: WebhookFormatSchema,
  /** Scheme and host of the URL: enough to recognise the receiver, nothing of its secret path or query. */
  target: z.string(),
  clusters: AllowedClustersSchema,
  selector: z.string().optional(),
  events: z.array(z.enum(['opened', 'resolved'])),
  maxPerMinute: z.number().int(),
  /** `{url, signingSecret?}` JSON sealed under `KNM_SECRETS_KEY` with the context `webhook:<id>`. */
  sealed: z.string().min(1),
  createdAt: z.iso.datetime(),
  createdBy: z.string().optional(),
});
export type WebhookSinkRecord = z.infer<typeof WebhookSinkRecordSchema>;

/** What answers show of a sink: its record without the sealed URL. */
export const WebhookSinkSummarySchema = WebhookSinkRecordSchema.omit({ sealed: true });
export type WebhookSinkSummary = z.infer<typeof WebhookSinkSummarySchema>;

/** The sealed part of a sink. */
export const WebhookSecretsSchema = z.object({ url: httpUrl, signingSecret: z.string().optional() });
export type WebhookSecrets = z.infer<typeof WebhookSecretsSchema>;

/** `GET /api/v1/webhooks`. */
export const WebhookSinkListResponseSchema = z.object({ items: z.array(WebhookSinkSummarySchema) });
export type WebhookSinkListResponse = z.infer<typeof WebhookSinkListResponseSchema>;

/** `POST /api/v1/webhooks/:id/test`: what the receiver did with a test message. */
export const WebhookTestResponseSchema = z.object({
  delivered: z.literal(true),
  status: z.number().int(),
  deliveryId: z.string(),
});
export type WebhookTestResponse = z.infer<typeof WebhookTestResponseSchema>;

/**
 * The `json` format's body: one message per group of transitions of one kind in one
 * cluster. `deliveryId` is the same on every retry of one message, so a receiver
 * that saw it already can drop it.
 */
export interface IncidentNotification {
  type: 'incidents.opened' | 'incidents.resolved' | 'test';
  deliveryId: string;
  cluster: string;
  incidents: {
    node: string;
    incident: string;
    cause: string;
    detail?: string;
    startedAt: string;
    endedAt?: string;
    durationSeconds?: number;
    flapping: boolean;
  }[];
}
