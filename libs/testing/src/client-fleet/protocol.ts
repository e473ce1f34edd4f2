import type { Probe, ProbeDeliveries } from './probe-arrivals.js';
import type { ClientState, FleetClientCounters } from './fleet-client.js';
import type { FullView, ViewDigest } from './compact-view.js';

/** What a fleet process is started with (JSON in the `KNM_FLEET_CONFIG` environment variable). */
export interface FleetProcessConfig {
  urls: string[];
  /** REST base URL per entry of `urls` (same index); default `urls` itself. */
  restUrls?: string[];
  token: string;
  cluster: string;
  /** Clients of this process. */
  clients: number;
  /** Fleet-wide index of this process's first client (client i starts on `urls[(first + i) % urls.length]`). */
  firstClient: number;
  probeLabel: string;
  /** Clients connecting and loading their snapshot at the same time. */
  connectConcurrency: number;
}

/** One fleet process's state and counters (summed over its clients). */
export interface FleetProcessStats extends FleetClientCounters {
  process: number;
  pid: number;
  clients: number;
  /** Clients whose subscription is live (synced and receiving). */
  live: number;
  /** Clients with an open connection. */
  connected: number;
  /** The lowest seq any client's view is at (0 before every client loaded). */
  minSeq: number;
  /** Why its clients' connections ended or failed to open, by Socket.IO's reason (`connect error`: a failed open). */
  disconnects: Record<string, number>;
  lastError?: string;
}

/** One client's view digest, and where the client is (for telling a stalled view from a reconnecting one). */
export interface FleetClientView extends ViewDigest {
  state: ClientState;
  /** The client's socket id while it has a socket (the gateway's log lines name sockets by it). */
  socketId?: string;
  /** Milliseconds since the last envelope or batch reached the client. */
  quietMs: number;
  reconnects: number;
}

/** A command from the fleet to a fleet process. */
export type FleetCommand =
  | { id: number; cmd: 'stats' }
  | { id: number; cmd: 'resetProbes' }
  /** What this process's clients made of `probes` (arrivals recorded since the last `resetProbes`). */
  | { id: number; cmd: 'probeDeliveries'; probes: Probe[] }
  | { id: number; cmd: 'views' }
  | { id: number; cmd: 'fullView'; client: number }
  /** `afterGc`: measure the heap after a forced full GC (the leak signal; RSS grows in steps). */
  | { id: number; cmd: 'memory'; afterGc?: boolean }
  | { id: number; cmd: 'close' };

/** Replies, by command. */
export interface FleetReplies {
  stats: FleetProcessStats;
  resetProbes: null;
  probeDeliveries: ProbeDeliveries;
  views: FleetClientView[];
  fullView: FullView;
  memory: { rssBytes: number; heapUsedBytes: number };
  close: null;
}

/** A reply of a fleet process. */
export type FleetReply = { id: number; result: unknown } | { id: number; error: string };
