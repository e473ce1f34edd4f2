export {
  startClientFleet,
  type ClientFleet,
  type ClientFleetOptions,
  type FleetClientRef,
} from './client-fleet.js';
export { viewDigest, type FullView, type ViewDigest } from './compact-view.js';
export type { ClientState, FleetClientCounters } from './fleet-client.js';
export type { Probe, ProbeDeliveries } from './probe-arrivals.js';
export type { FleetClientView, FleetProcessStats } from './protocol.js';
