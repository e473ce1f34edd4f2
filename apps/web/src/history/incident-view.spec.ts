import { describe, expect, it } from 'vitest';
import { IncidentSchema, MttrResponseSchema, type Incident } from '@knm/contracts';
import {
  formatDuration,
  incidentDurationMs,
  mttrBars,
  mttrSummary,
  orderIncidents,
  periodSince,
} from './incident-view.js';

function incident(node: string, start: string, end?: string): Incident {
  const ms = end === undefined ? undefined : Date.parse(end) - Date.parse(start);
  return IncidentSchema.parse({
    id: `${node}:${Date.parse(start)}`,
    cluster: 'dev',
    node,
    pool: 'general',
    start,
    ...(end === undefined ? {} : { end, durationMs: ms, endReason: 'recovered' }),
    cause: 'Ready=False (KubeletNotReady)',
    conditions: ['Ready'],
    flapping: false,
  });
}

describe('orderIncidents', () => {
  it('puts open incidents first (newest start first), then closed ones by end, newest first', () => {
    const items = [
      incident('a', '2026-12-01T08:00:00Z', '2026-12-01T08:05:00Z'),
      incident('b', '2026-12-01T09:00:00Z'),
      incident('c', '2026-12-01T07:00:00Z', '2026-12-01T09:30:00Z'),
      incident('d', '2026-12-01T09:10:00Z'),
      incident('e', '2026-12-01T08:30:00Z', '2026-12-01T08:40:00Z'),
    ];
    expect(orderIncidents(items).map((i) => i.node)).toEqual(['d', 'b', 'c', 'e', 'a']);
  });
});

describe('durations', () => {
  it('uses the closed duration, and the time so far while open', () => {
    const now = Date.parse('2026-12-01T10:00:00Z');
    expect(incidentDurationMs(incident('a', '2026-12-01T09:00:00Z', '2026-12-01T09:04:30Z'), now)).toBe(
      270_000,
    );
    expect(incidentDurationMs(incident('b', '2026-12-01T09:59:15Z'), now)).toBe(45_000);
    expect(incidentDurationMs(incident('b', '2026-12-01T10:00:05Z'), now)).toBe(0);
  });

  it('formats at most two units', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(45_999)).toBe('45s');
    expect(formatDuration(270_000)).toBe('4m 30s');
    expect(formatDuration(3 * 3_600_000 + 4 * 60_000 + 59_000)).toBe('3h 4m');
    expect(formatDuration(2 * 86_400_000 + 5 * 3_600_000)).toBe('2d 5h');
  });

  it('turns a period into its start', () => {
    const now = Date.parse('2026-12-08T00:00:00Z');
    expect(periodSince('24h', now)).toBe('2026-12-07T00:00:00.000Z');
    expect(periodSince('7d', now)).toBe('2026-12-01T00:00:00.000Z');
    expect(periodSince('30d', now)).toBe('2026-11-08T00:00:00.000Z');
  });
});

describe('MTTR presentation', () => {
  const response = MttrResponseSchema.parse({
    since: '2026-12-01T00:00:00Z',
    until: '2026-12-08T00:00:00Z',
    clusters: [
      {
        cluster: 'dev',
        incidents: 4,
        mttrMs: 150_000,
        pools: [
          { pool: 'general', incidents: 3, mttrMs: 60_000 },
          { pool: 'gpu', incidents: 1, mttrMs: 420_000 },
          { pool: 'spot', incidents: 0 },
        ],
      },
      { cluster: 'prod', incidents: 0, pools: [] },
    ],
  });

  it('draws one bar per pool with a closed incident, longest first, labelled for screen readers', () => {
    expect(mttrBars(response, 'dev')).toEqual([
      {
        pool: 'gpu',
        mttrMs: 420_000,
        incidents: 1,
        percent: 100,
        figure: '7m 0s over 1 incident',
        label: 'gpu: MTTR 7m 0s over 1 incident',
      },
      {
        pool: 'general',
        mttrMs: 60_000,
        incidents: 3,
        percent: 14,
        figure: '1m 0s over 3 incidents',
        label: 'general: MTTR 1m 0s over 3 incidents',
      },
    ]);
    expect(mttrBars(response, 'prod')).toEqual([]);
    expect(mttrBars(undefined, 'dev')).toEqual([]);
  });

  it("sums up the cluster's MTTR, or says none closed", () => {
    expect(mttrSummary(response, 'dev')).toBe('MTTR 2m 30s over 4 incidents');
    expect(mttrSummary(response, 'prod')).toBe('No incident closed in this period');
    expect(mttrSummary(undefined, 'dev')).toBe('No incident closed in this period');
  });
});
