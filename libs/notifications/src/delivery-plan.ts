import {
  clustersAllow,
  matchesLabelSelector,
  parseLabelSelector,
  type IncidentTransition,
  type WebhookSinkRecord,
} from '@knm/contracts';
import { MAX_TRANSITIONS_PER_MESSAGE, type DeliveryJobData } from './delivery-job.js';

/** A job to add: its deterministic id and data. */
export interface PlannedDelivery {
  jobId: string;
  data: DeliveryJobData;
}

/**
 * The messages one hand-over sends: for each sink, the transitions it wants (its
 * clusters, its selector on the node's labels, its events), one message per kind,
 * in order, at most {@link MAX_TRANSITIONS_PER_MESSAGE} each. Pure: the same
 * hand-over and sinks give the same job ids, which is what lets a second
 * dispatcher (a failover in the middle) add the same jobs without doubling them.
 */
export function planDeliveries(
  cluster: string,
  handOverId: string,
  transitions: readonly IncidentTransition[],
  sinks: readonly WebhookSinkRecord[],
): PlannedDelivery[] {
  const planned: PlannedDelivery[] = [];
  for (const sink of sinks) {
    if (!clustersAllow(sink.clusters, cluster)) continue;
    const selector = sink.selector ? parseLabelSelector(sink.selector) : undefined;
    for (const kind of ['opened', 'resolved'] as const) {
      if (!sink.events.includes(kind)) continue;
      const wanted = transitions.filter(
        (t) => t.kind === kind && (!selector || matchesLabelSelector(selector, t.labels)),
      );
      for (let i = 0; i < wanted.length; i += MAX_TRANSITIONS_PER_MESSAGE) {
        planned.push({
          jobId: `${cluster}/${handOverId}/${sink.id}/${kind}/${i / MAX_TRANSITIONS_PER_MESSAGE}`,
          data: {
            sinkId: sink.id,
            cluster,
            kind,
            transitions: wanted.slice(i, i + MAX_TRANSITIONS_PER_MESSAGE),
          },
        });
      }
    }
  }
  return planned;
}
