import type { KubeObject } from '../api/kube-object.js';
import { objectKey } from '../store/kind-store.js';
import { rfc3339 } from './clock.js';
import type { Cluster } from './cluster.js';

/** Who reports an event: a controller, or the kubelet of a node (`host`). */
export interface EventSource {
  component: string;
  host?: string;
}

/** Options of {@link EventRecorder}. */
export interface EventRecorderOptions {
  /** How long an event is kept, ms of simulated time (the API server's `--event-ttl`). Default 3,600,000. */
  ttlMs?: number;
}

/**
 * Writes core/v1 Events about objects, as controllers and kubelets record them
 * (client-go's EventRecorder): named `<object>.<hex time>`, in the object's namespace
 * (`default` for cluster-scoped ones), `count` 1, first and last timestamps the
 * simulated now, deleted after the event TTL. Node events from the kubelet name the
 * node's name as its uid, as the real kubelet does (`kubectl describe node` asks for both).
 * Call it from simulated tasks, never from a change listener.
 */
export class EventRecorder {
  private readonly ttlMs: number;
  private sequence = 0;

  constructor(
    private readonly cluster: Cluster,
    options: EventRecorderOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 3_600_000;
  }

  record(
    about: KubeObject,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    source: EventSource,
  ): void {
    const now = this.cluster.now();
    const at = rfc3339(now);
    const namespace = about.metadata.namespace ?? 'default';
    const uid =
      about.kind === 'Node' && source.component === 'kubelet' ? about.metadata.name : about.metadata.uid;
    const name = `${about.metadata.name}.${(now * 1_000_000 + (this.sequence++ % 1_000_000)).toString(16)}`;
    const event = this.cluster.createObject('Event', {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace, uid: '', resourceVersion: '', creationTimestamp: '' },
      involvedObject: {
        kind: about.kind,
        name: about.metadata.name,
        uid,
        apiVersion: about.apiVersion,
        ...(about.metadata.namespace !== undefined ? { namespace: about.metadata.namespace } : {}),
      },
      reason,
      message,
      source: { component: source.component, ...(source.host !== undefined ? { host: source.host } : {}) },
      firstTimestamp: at,
      lastTimestamp: at,
      count: 1,
      type,
      eventTime: null,
      reportingComponent: source.component,
      reportingInstance: source.host ?? '',
    });
    const key = objectKey(event);
    const eventUid = event.metadata.uid;
    this.cluster.schedule(this.ttlMs, () => {
      if (this.cluster.store.get('Event', key)?.metadata.uid === eventUid)
        this.cluster.store.delete('Event', key);
    });
  }
}
