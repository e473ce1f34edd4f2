/** A probe a harness sent: the node whose probe label it set, and its send time (the label's value, ms since the epoch). */
export interface Probe {
  node: string;
  sentAt: number;
}

/** What the clients of a fleet made of a set of probes, summed over its clients. */
export interface ProbeDeliveries {
  /**
   * One per client and probe delivered: ms from the probe's send time to the first
   * live change of its node that carried it or a later probe of the same node.
   */
  latencyMs: number[];
  /**
   * Of those, how many were delivered by a later probe: merged delivery folds a node's
   * changes into its latest state, so a client behind may never see a probe that a
   * later one overwrote, and has its change (or a newer one) only then.
   */
  superseded: number;
  /** Client and probe pairs with no such change yet. */
  missing: number;
  /** Arrivals not recorded because the process's buffer was full (they may make `missing` too high). */
  dropped: number;
}

/** At most this many arrivals are kept per process between resets (24 bytes each). */
const MAX_ARRIVALS = 4_000_000;

/**
 * The probe values a fleet process's clients saw arrive live, in arrival order: which
 * client, which node, the value (a send time) and when. A probe's latency for a client
 * is then read off these against the probes actually sent ({@link deliveries}), so a
 * probe that merged delivery folded away counts as delivered by the change that
 * superseded it, not as lost, and one that never arrived counts as missing.
 */
export class ProbeArrivals {
  private clients = new Int32Array(1024);
  private nodes: string[] = [];
  private values = new Float64Array(1024);
  private ats = new Float64Array(1024);
  private count = 0;
  private dropped = 0;

  /** Client `client` (an index within its process) saw `node`'s probe label change to `sentAt`, live, at `at`. */
  record(client: number, node: string, sentAt: number, at: number): void {
    if (this.count === this.values.length) {
      if (this.count >= MAX_ARRIVALS) {
        this.dropped += 1;
        return;
      }
      this.grow(Math.min(MAX_ARRIVALS, this.count * 2));
    }
    this.clients[this.count] = client;
    this.nodes[this.count] = node;
    this.values[this.count] = sentAt;
    this.ats[this.count] = at;
    this.count += 1;
  }

  /** Forgets every arrival recorded so far. */
  reset(): void {
    this.count = 0;
    this.dropped = 0;
    this.nodes = [];
  }

  /**
   * For each of `clients` clients (indexes 0 to clients − 1) and each of `probes`: the
   * first arrival at that client of its node's probe label with a value at or after
   * the probe's send time. Probe values are send times, so a later value on the same
   * node is a later probe.
   */
  deliveries(probes: readonly Probe[], clients: number): ProbeDeliveries {
    // Arrival indexes by node, then by client, in arrival order.
    const byNode = new Map<string, Map<number, number[]>>();
    for (let i = 0; i < this.count; i++) {
      const node = this.nodes[i] as string;
      let perClient = byNode.get(node);
      if (!perClient) byNode.set(node, (perClient = new Map()));
      const client = this.clients[i] as number;
      const list = perClient.get(client);
      if (list) list.push(i);
      else perClient.set(client, [i]);
    }
    const latencyMs: number[] = [];
    let superseded = 0;
    let missing = 0;
    for (const probe of probes) {
      const perClient = byNode.get(probe.node);
      for (let client = 0; client < clients; client++) {
        const first = perClient?.get(client)?.find((i) => (this.values[i] as number) >= probe.sentAt);
        if (first === undefined) {
          missing += 1;
          continue;
        }
        latencyMs.push(Math.round(((this.ats[first] as number) - probe.sentAt) * 100) / 100);
        if ((this.values[first] as number) > probe.sentAt) superseded += 1;
      }
    }
    return { latencyMs, superseded, missing, dropped: this.dropped };
  }

  private grow(size: number): void {
    const clients = new Int32Array(size);
    clients.set(this.clients);
    this.clients = clients;
    const values = new Float64Array(size);
    values.set(this.values);
    this.values = values;
    const ats = new Float64Array(size);
    ats.set(this.ats);
    this.ats = ats;
  }
}
