import { ref, shallowRef, type Ref, type ShallowRef } from 'vue';
import type { Incident, MttrResponse } from '@knm/contracts';
import type { HistoryApi } from './history-api.js';
import { orderIncidents, periodSince, type IncidentPeriod } from './incident-view.js';

/** Options of {@link IncidentsStore}. */
export interface IncidentsStoreOptions {
  /** The reads the view makes (a HistoryApi). */
  api: Pick<HistoryApi, 'incidents' | 'mttr'>;
  /** The cluster the view shows (the dashboard's current one). */
  cluster: () => string | undefined;
  /** How often the view reads again while open. Default 10,000 ms. */
  refreshMs?: number;
  /** Default `Date.now`. */
  now?: () => number;
}

/**
 * The incidents view of the current cluster: its incidents still open or ended within
 * the period (open first, then closed newest first) and the MTTR per node pool of
 * those closed within it. Not live per change: read when opened, when the period or
 * the cluster changes, and every `refreshMs` while open; an answer overtaken by a
 * newer read is dropped.
 */
export class IncidentsStore {
  /** Whether the view is shown (the header's "Incidents" tab). */
  readonly active: Ref<boolean> = ref(false);
  readonly period: Ref<IncidentPeriod> = ref('7d');
  readonly incidents: ShallowRef<Incident[]> = shallowRef([]);
  /** More incidents matched than one read returns (the oldest are not listed). */
  readonly truncated: Ref<boolean> = ref(false);
  readonly mttr: ShallowRef<MttrResponse | undefined> = shallowRef();
  readonly error: Ref<string | undefined> = ref();
  /** Whether the current cluster and period were read at least once. */
  readonly loaded: Ref<boolean> = ref(false);

  private timer: ReturnType<typeof setInterval> | undefined;
  private reads = 0;

  constructor(private readonly options: IncidentsStoreOptions) {}

  open(): void {
    this.active.value = true;
    this.restart();
    if (this.timer) clearInterval(this.timer);
    this.timer = setInterval(() => void this.load(), this.options.refreshMs ?? 10_000);
  }

  close(): void {
    this.active.value = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.reads += 1;
  }

  setPeriod(period: IncidentPeriod): void {
    if (period === this.period.value) return;
    this.period.value = period;
    if (this.active.value) this.restart();
  }

  /** The cluster changed: what was shown belonged to the previous one. */
  clusterChanged(): void {
    if (this.active.value) this.restart();
  }

  private restart(): void {
    this.incidents.value = [];
    this.mttr.value = undefined;
    this.loaded.value = false;
    void this.load();
  }

  private async load(): Promise<void> {
    const cluster = this.options.cluster();
    if (cluster === undefined) return;
    const read = ++this.reads;
    const since = periodSince(this.period.value, (this.options.now ?? Date.now)());
    try {
      const [list, mttr] = await Promise.all([
        this.options.api.incidents({ cluster, since }),
        this.options.api.mttr({ cluster, since }),
      ]);
      if (read !== this.reads) return;
      this.incidents.value = orderIncidents(list.items);
      this.truncated.value = list.truncated;
      this.mttr.value = mttr;
      this.loaded.value = true;
      this.error.value = undefined;
    } catch (err) {
      if (read !== this.reads) return;
      this.error.value = err instanceof Error ? err.message : String(err);
    }
  }
}
