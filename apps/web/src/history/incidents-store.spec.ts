import { describe, expect, it } from 'vitest';
import { IncidentSchema, type Incident, type IncidentsResponse, type MttrResponse } from '@knm/contracts';
import type { IncidentsRequest, MttrRequest } from './history-api.js';
import { IncidentsStore } from './incidents-store.js';

const NOW = Date.parse('2026-12-08T00:00:00Z');

/** A HistoryApi whose answers the test releases one by one, recording each query. */
function fakeApi() {
  const calls: { incidents: IncidentsRequest; mttr: MttrRequest }[] = [];
  const pending: ((items: IncidentsResponse['items']) => void)[] = [];
  const api = {
    incidents(query: IncidentsRequest): Promise<IncidentsResponse> {
      calls.push({ incidents: query, mttr: {} });
      return new Promise((resolve) => pending.push((items) => resolve({ items, truncated: false })));
    },
    mttr(query: MttrRequest): Promise<MttrResponse> {
      const call = calls.at(-1);
      if (call) call.mttr = query;
      return Promise.resolve({ since: query.since ?? '', until: '', clusters: [] });
    },
  };
  return { api, calls, pending };
}

const incident = (node: string, start: string, end?: string): Incident =>
  IncidentSchema.parse({
    id: `${node}:${start}`,
    cluster: 'dev',
    node,
    pool: 'none',
    start,
    ...(end ? { end, durationMs: Date.parse(end) - Date.parse(start) } : {}),
    cause: 'Ready=Unknown',
    conditions: ['Ready'],
    flapping: false,
  });

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('IncidentsStore', () => {
  it('reads the cluster within the period, orders open first, and drops an answer overtaken by a newer read', async () => {
    const { api, calls, pending } = fakeApi();
    let cluster = 'dev';
    const store = new IncidentsStore({ api, cluster: () => cluster, now: () => NOW, refreshMs: 3_600_000 });
    store.open();
    expect(calls[0]).toEqual({
      incidents: { cluster: 'dev', since: '2026-12-01T00:00:00.000Z' },
      mttr: { cluster: 'dev', since: '2026-12-01T00:00:00.000Z' },
    });
    store.setPeriod('24h');
    expect(calls[1]?.incidents).toEqual({ cluster: 'dev', since: '2026-12-07T00:00:00.000Z' });
    // The 7 d answer comes last: it belongs to a period no longer shown.
    pending[1]?.([
      incident('a', '2026-12-07T10:00:00Z', '2026-12-07T10:05:00Z'),
      incident('b', '2026-12-07T09:00:00Z'),
    ]);
    await settle();
    pending[0]?.([incident('old', '2026-12-02T10:00:00Z', '2026-12-02T11:00:00Z')]);
    await settle();
    expect(store.incidents.value.map((i) => i.node)).toEqual(['b', 'a']);
    expect(store.loaded.value).toBe(true);

    cluster = 'prod';
    store.clusterChanged();
    expect(store.incidents.value).toEqual([]);
    expect(calls[2]?.incidents.cluster).toBe('prod');
    store.close();
    pending[2]?.([incident('c', '2026-12-07T09:00:00Z')]);
    await settle();
    expect(store.incidents.value).toEqual([]);
    expect(store.active.value).toBe(false);
  });
});
