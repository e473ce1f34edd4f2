import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { toClusterName, type IncidentTransition } from '@knm/contracts';
import { incidentMessageBody, incidentNotification, incidentText } from './incident-message.js';

const resolved: IncidentTransition = {
  cluster: toClusterName('prod'),
  node: 'node-7',
  incident: 'i1',
  kind: 'resolved',
  cause: 'MemoryPressure',
  detail: 'KubeletHasInsufficientMemory',
  startedAt: '2026-12-02T10:00:00.000Z',
  endedAt: '2026-12-02T10:02:30.000Z',
  flapping: true,
  labels: {},
};

describe('incident messages', () => {
  it('json carries the duration and the delivery id', () => {
    expect(
      incidentNotification({ deliveryId: 'd1', cluster: 'prod', kind: 'resolved', transitions: [resolved] }),
    ).toEqual({
      type: 'incidents.resolved',
      deliveryId: 'd1',
      cluster: 'prod',
      incidents: [
        {
          node: 'node-7',
          incident: 'i1',
          cause: 'MemoryPressure',
          detail: 'KubeletHasInsufficientMemory',
          startedAt: '2026-12-02T10:00:00.000Z',
          endedAt: '2026-12-02T10:02:30.000Z',
          durationSeconds: 150,
          flapping: true,
        },
      ],
    });
  });

  it('chat text: a headline, one line per node, the rest counted', () => {
    const many = Array.from({ length: 23 }, (_, i) => ({ ...resolved, node: `n${i}` }));
    const text = incidentText({ deliveryId: 'd', cluster: 'prod', kind: 'resolved', transitions: many });
    const lines = text.split('\n');
    expect(lines[0]).toBe('🟢 prod: 23 nodes recovered');
    expect(lines[1]).toBe('• n0 MemoryPressure: KubeletHasInsufficientMemory after 2m30s (flapping)');
    expect(lines).toHaveLength(22);
    expect(lines.at(-1)).toBe('… and 3 more');
  });

  it("feishu: text message, signed as Feishu's documentation specifies when a secret is set", () => {
    const now = new Date('2026-12-02T10:00:00Z');
    const input = {
      deliveryId: 'd',
      cluster: 'prod',
      kind: 'opened' as const,
      transitions: [{ ...resolved, kind: 'opened' as const }],
    };
    const body = incidentMessageBody('feishu', input, 'bot-secret', now) as Record<string, unknown>;
    const timestamp = String(now.getTime() / 1000);
    expect(body).toMatchObject({
      msg_type: 'text',
      timestamp,
      content: { text: expect.stringContaining('🔴 prod: 1 node in trouble') },
    });
    expect(body['sign']).toBe(createHmac('sha256', `${timestamp}\nbot-secret`).update('').digest('base64'));
    expect(incidentMessageBody('feishu', input)).not.toHaveProperty('sign');
    expect(incidentMessageBody('slack', input)).toEqual({ text: incidentText(input) });
  });
});
