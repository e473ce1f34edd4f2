import type { IncidentMessageInput } from './incident-message.js';
import { incidentMessageBody } from './incident-message.js';
import type { OpenedWebhookSink } from './webhook-sink-store.js';

/** The receiver refused the message and will refuse it again (a 4xx, a Feishu error code): retrying is pointless. */
export class WebhookRefusedError extends Error {
  override readonly name = 'WebhookRefusedError';
}

/**
 * POSTs one message to a sink in its format, with the delivery id as
 * `X-Knm-Delivery`. Answers the HTTP status of an accepted message. Throws
 * {@link WebhookRefusedError} when it will not get better; any other error (network,
 * timeout, 408, 429, 5xx) is worth a retry. Error messages name the sink's `target`
 * (scheme and host), never its URL, whose path or query is often the secret.
 */
export async function postWebhook(
  sink: OpenedWebhookSink,
  input: IncidentMessageInput,
  timeoutMs: number,
): Promise<number> {
  const { record, secrets } = sink;
  const body = incidentMessageBody(record.format, input, secrets.signingSecret);
  let response: Response;
  try {
    response = await fetch(secrets.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'knm-notifier',
        'x-knm-delivery': input.deliveryId,
        'x-knm-event': input.kind === 'test' ? 'test' : `incidents.${input.kind}`,
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    // Only the cause's code goes on: a delivery's failure is stored in Redis (BullMQ keeps
    // its message and stack), and nothing that might carry the URL may go there.
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    // eslint-disable-next-line preserve-caught-error -- see above: the cause stays out on purpose
    throw new Error(`${record.target} unreachable (${cause})`);
  }
  const answer = await response.text().catch(() => '');
  if (response.status === 408 || response.status === 429 || response.status >= 500) {
    throw new Error(`${record.target} answered ${response.status}`);
  }
  if (response.status >= 300)
    throw new WebhookRefusedError(`${record.target} refused the message: ${response.status}`);
  if (record.format === 'feishu') assertFeishuAccepted(answer, record.target);
  return response.status;
}

/** Feishu/Lark answer HTTP 200 with `{code: <non-zero>, msg}` for a refused message (a bad signature, say). */
function assertFeishuAccepted(answer: string, target: string): void {
  let parsed: { code?: unknown; StatusCode?: unknown; msg?: unknown };
  try {
    parsed = JSON.parse(answer) as typeof parsed;
  } catch {
    return; // not their JSON: a 2xx is all there is to go by
  }
  const code = parsed.code ?? parsed.StatusCode ?? 0;
  if (code !== 0)
    throw new WebhookRefusedError(
      `${target} refused the message: code ${String(code)} ${String(parsed.msg ?? '')}`,
    );
}
