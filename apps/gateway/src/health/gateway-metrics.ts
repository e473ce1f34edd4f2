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
  readonly socketDisconnects = new Counter({
    name: 'knm_gateway_socket_disconnects_total',
    help: "Socket.IO clients that left this replica, by Socket.IO's reason (ping timeout: no pong within the ping timeout; transport close: the client or the network closed it; server namespace disconnect: this replica closed it, as the slow-socket timeout and token expiry do)",
    labelNames: ['reason'] as const,
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
  readonly batchesBuilt = new Counter({
    name: 'knm_gateway_batches_built_total',
    help: 'Folded batches built and encoded (each is sent to every socket it covers: fewer than batches sent when sockets share)',
    registers: [this.registry],
  });
  readonly batchBudgetHeld = new Gauge({
    name: 'knm_gateway_batch_budget_held_bytes',
    help: 'Bytes of batches written to sockets and not yet taken by their clients (bounded by KNM_WS_BATCH_BUDGET_BYTES), sampled every 250 ms',
    registers: [this.registry],
  });
  readonly batchBudgetWaiting = new Gauge({
    name: 'knm_gateway_batch_budget_waiting_sockets',
    help: 'Sockets owed a batch and waiting for the batch budget, sampled every 250 ms',
    registers: [this.registry],
  });
  readonly stalledSockets = new Gauge({
    name: 'knm_gateway_stalled_sockets',
    help: 'Sockets owed envelopes, that took everything they were sent, and were written nothing for 30 s (logged at most every 10 s with the longest stalled), sampled every 250 ms',
    registers: [this.registry],
  });
  readonly batchBudgetOldestWait = new Gauge({
    name: 'knm_gateway_batch_budget_oldest_wait_seconds',
    help: 'How long the socket waiting longest for the batch budget has waited (its batch is reserved: the others are admitted only beside it), sampled every 250 ms',
    registers: [this.registry],
  });
  readonly batchBudgetLapses = new Counter({
    name: 'knm_gateway_batch_budget_lapses_total',
    help: 'Sockets waiting for the batch budget that lost their place because they did not ask again within the lapse',
    registers: [this.registry],
  });
  readonly batchParts = new Counter({
    name: 'knm_gateway_batch_parts_total',
    help: "Parts of folded batches sent in parts (each a couple of seconds of its socket's link; the batch itself is counted once in knm_gateway_batches_sent_total)",
    registers: [this.registry],
  });
  readonly batchBudgetWaits = new Counter({
    name: 'knm_gateway_batch_budget_waits_total',
    help: 'Times a socket owed a batch was made to wait because the batch budget was spent',
    registers: [this.registry],
  });
  readonly batchBytes = new Counter({
    name: 'knm_gateway_batch_bytes_total',
    help: 'Bytes of folded batches written to sockets (summed over the sockets each went to), by encoding: plain JSON, or deflate for subscriptions that asked for compressed batches',
    labelNames: ['encoding'] as const,
    registers: [this.registry],
  });
  readonly liveBytes = new Counter({
    name: 'knm_gateway_live_bytes_total',
    help: 'Bytes of live messages (envelopes, and runs of them as live batches) written to sockets (summed over the sockets each went to), by encoding: plain JSON, or deflate for the large ones to subscriptions that asked for compressed batches',
    labelNames: ['encoding'] as const,
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
