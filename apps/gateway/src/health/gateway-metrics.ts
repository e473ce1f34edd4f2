import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The gateway's Prometheus metrics, in a registry of its own (so two gateways in one
 * process, as in tests, do not collide).
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly httpRequests = new Histogram({
    name: 'knm_gateway_http_request_duration_seconds',
    help: 'REST request latency by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly sockets = new Gauge({
    name: 'knm_gateway_sockets',
    help: 'Socket.IO clients connected to this replica',
    registers: [this.registry],
  });
  readonly subscriptions = new Gauge({
    name: 'knm_gateway_subscriptions',
    help: "Cluster subscriptions of this replica's sockets",
    labelNames: ['cluster'] as const,
    registers: [this.registry],
  });
  readonly envelopesSent = new Counter({
    name: 'knm_gateway_envelopes_sent_total',
    help: 'Envelopes sent to sockets one by one (live delivery)',
    registers: [this.registry],
  });
  readonly batchesSent = new Counter({
    name: 'knm_gateway_batches_sent_total',
    help: 'Folded batches sent to sockets, by why (resume, merged: the socket fell behind, rate: maxRate, full: the whole state because the stream no longer reached back, live: a run of live envelopes past the live pace)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly batchEnvelopes = new Counter({
    name: 'knm_gateway_batch_envelopes_total',
    help: 'Envelopes carried inside batches (after folding)',
    registers: [this.registry],
  });
  readonly resyncsSent = new Counter({
    name: 'knm_gateway_resyncs_sent_total',
    help: 'resync envelopes the gateway itself sent, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly mergedSockets = new Gauge({
    name: 'knm_gateway_merged_subscriptions',
    help: 'Subscriptions in merged delivery (behind live, or rate-bounded)',
    registers: [this.registry],
  });
  readonly backlogBytesMax = new Gauge({
    name: 'knm_gateway_socket_backlog_bytes_max',
    help: 'The largest unsent backlog of one socket of this replica, sampled every 250 ms',
    registers: [this.registry],
  });
  readonly slowDisconnects = new Counter({
    name: 'knm_gateway_slow_consumer_disconnects_total',
    help: 'Sockets disconnected because they drained nothing for the slow-socket timeout',
    registers: [this.registry],
  });
  readonly authFailures = new Counter({
    name: 'knm_gateway_auth_failures_total',
    help: 'Refused tokens by transport and reason',
    labelNames: ['transport', 'reason'] as const,
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics ?? true)
      collectDefaultMetrics({ register: this.registry, prefix: 'knm_gateway_' });
  }
}
