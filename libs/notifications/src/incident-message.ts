import { createHmac } from 'node:crypto';
import type { IncidentNotification, IncidentTransition, WebhookFormat } from '@knm/contracts';

/** Lines listed in a chat message; the rest is counted ("and 12 more"). */
const MAX_CHAT_LINES = 20;

/** One message's content: a group of transitions of one kind in one cluster. */
export interface IncidentMessageInput {
  deliveryId: string;
  cluster: string;
  kind: IncidentTransition['kind'] | 'test';
  transitions: readonly IncidentTransition[];
}

/** knm's own JSON form of a message. */
export function incidentNotification(input: IncidentMessageInput): IncidentNotification {
  return {
    type: input.kind === 'test' ? 'test' : `incidents.${input.kind}`,
    deliveryId: input.deliveryId,
    cluster: input.cluster,
    incidents: input.transitions.map((t) => ({
      node: t.node,
      incident: t.incident,
      cause: t.cause,
      ...(t.detail ? { detail: t.detail } : {}),
      startedAt: t.startedAt,
      ...(t.endedAt
        ? {
            endedAt: t.endedAt,
            durationSeconds: Math.round((Date.parse(t.endedAt) - Date.parse(t.startedAt)) / 1000),
          }
        : {}),
      flapping: t.flapping,
    })),
  };
}

/** The text a chat receives: a headline, then one line per node. */
export function incidentText(input: IncidentMessageInput): string {
  const n = input.transitions.length;
  const nodes = n === 1 ? '1 node' : `${n} nodes`;
  const headline =
    input.kind === 'test'
      ? `knm test message for cluster ${input.cluster}`
      : input.kind === 'opened'
        ? `🔴 ${input.cluster}: ${nodes} in trouble`
        : `🟢 ${input.cluster}: ${nodes} recovered`;
  const lines = input.transitions.slice(0, MAX_CHAT_LINES).map((t) => {
    const took = t.endedAt ? ` after ${formatDuration(Date.parse(t.endedAt) - Date.parse(t.startedAt))}` : '';
    const flap = t.flapping ? ' (flapping)' : '';
    const detail = t.detail ? `: ${t.detail}` : '';
    return `• ${t.node} ${t.cause}${detail}${took}${flap}`;
  });
  if (n > MAX_CHAT_LINES) lines.push(`… and ${n - MAX_CHAT_LINES} more`);
  return [headline, ...lines].join('\n');
}

/**
 * The request body for a sink's format. Feishu/Lark bots with signature
 * verification get `timestamp` and `sign` = base64(HMAC-SHA256 keyed by
 * "<timestamp>\n<secret>" over nothing), as their documentation specifies.
 */
export function incidentMessageBody(
  format: WebhookFormat,
  input: IncidentMessageInput,
  signingSecret?: string,
  now: Date = new Date(),
): unknown {
  switch (format) {
    case 'json':
      return incidentNotification(input);
    case 'slack':
      return { text: incidentText(input) };
    case 'feishu': {
      const body: Record<string, unknown> = { msg_type: 'text', content: { text: incidentText(input) } };
      if (signingSecret) {
        const timestamp = String(Math.floor(now.getTime() / 1000));
        body['timestamp'] = timestamp;
        body['sign'] = createHmac('sha256', `${timestamp}\n${signingSecret}`).update('').digest('base64');
      }
      return body;
    }
  }
}

function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, '0')}m`;
}
