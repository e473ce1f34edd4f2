import type { Incident, MttrResponse } from '@knm/contracts';

/** The periods the incidents view offers; each drives `since` of both reads. */
export const INCIDENT_PERIODS = [
  { key: '24h', label: '24 h', ms: 24 * 3_600_000 },
  { key: '7d', label: '7 d', ms: 7 * 24 * 3_600_000 },
  { key: '30d', label: '30 d', ms: 30 * 24 * 3_600_000 },
] as const;
export type IncidentPeriod = (typeof INCIDENT_PERIODS)[number]['key'];

/** RFC 3339 start of `period` ending at `now`. */
export function periodSince(period: IncidentPeriod, now: number): string {
  const ms = INCIDENT_PERIODS.find((p) => p.key === period)?.ms ?? INCIDENT_PERIODS[1].ms;
  return new Date(now - ms).toISOString();
}

/**
 * Open incidents first (newest start first: the latest trouble on top), then closed
 * ones by end, newest first (ties by start), whatever order the gateway answered in.
 */
export function orderIncidents(items: readonly Incident[]): Incident[] {
  const open = items.filter((i) => i.end === undefined).sort((a, b) => b.start.localeCompare(a.start));
  const closed = items
    .filter((i) => i.end !== undefined)
    .sort((a, b) => (b.end ?? '').localeCompare(a.end ?? '') || b.start.localeCompare(a.start));
  return [...open, ...closed];
}

/** How long the incident lasted, or has lasted so far (`now`) while open. */
export function incidentDurationMs(incident: Incident, now: number): number {
  return incident.durationMs ?? Math.max(0, now - Date.parse(incident.start));
}

/** `45s`, `12m 5s`, `3h 4m`, `2d 5h`: two units at most, enough to compare at a glance. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1_000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${seconds % 60}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h ${minutes % 60}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

/** One bar of the MTTR chart. */
export interface MttrBar {
  pool: string;
  mttrMs: number;
  incidents: number;
  /** Width of the bar: percent of the longest MTTR shown. */
  percent: number;
  /** Beside the bar, e.g. `4m 10s over 3 incidents`. */
  figure: string;
  /** What a screen reader and the tooltip say, e.g. `gpu: MTTR 4m 10s over 3 incidents`. */
  label: string;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * The MTTR chart of `cluster`: one bar per node pool with closed incidents, longest
 * MTTR first (ties by pool), widths relative to the longest. Pools without a closed
 * incident in the period have no MTTR and no bar.
 */
export function mttrBars(response: MttrResponse | undefined, cluster: string): MttrBar[] {
  const pools = response?.clusters.find((c) => c.cluster === cluster)?.pools ?? [];
  const measured = pools.flatMap((p) =>
    p.mttrMs === undefined ? [] : [{ pool: p.pool, mttrMs: p.mttrMs, incidents: p.incidents }],
  );
  const longest = Math.max(0, ...measured.map((p) => p.mttrMs));
  return measured
    .sort((a, b) => b.mttrMs - a.mttrMs || a.pool.localeCompare(b.pool))
    .map((p) => {
      const figure = `${formatDuration(p.mttrMs)} over ${plural(p.incidents, 'incident')}`;
      return {
        ...p,
        percent: longest > 0 ? Math.max(1, Math.round((p.mttrMs / longest) * 100)) : 0,
        figure,
        label: `${p.pool}: MTTR ${figure}`,
      };
    });
}

/** The cluster-wide figure above the chart, e.g. `MTTR 4m 10s over 3 incidents`. */
export function mttrSummary(response: MttrResponse | undefined, cluster: string): string {
  const figure = response?.clusters.find((c) => c.cluster === cluster);
  if (!figure || figure.mttrMs === undefined) return 'No incident closed in this period';
  return `MTTR ${formatDuration(figure.mttrMs)} over ${plural(figure.incidents, 'incident')}`;
}
