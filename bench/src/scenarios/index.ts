import type { Scenario } from '../harness/types.js';
import { dashboardScenario } from './dashboard.js';
import { fanoutScenario } from './fanout.js';
import { fleetScenario } from './fleet.js';
import { heartbeatScenario } from './heartbeat.js';
import { ingestScenario } from './ingest.js';
import { latencyScenario } from './latency.js';
import { queriesScenario } from './queries.js';
import { restScenario } from './rest.js';
import { slowClientsScenario } from './slow-clients.js';
import { syncMemoryScenario } from './sync-memory.js';
import { throughputScenario } from './throughput.js';

/** Every scenario of `npm run bench`, in the order they run (and appear in the report): the order. */
export const SCENARIOS: readonly Scenario[] = [
  syncMemoryScenario,
  queriesScenario,
  throughputScenario,
  ingestScenario,
  latencyScenario,
  slowClientsScenario,
  fanoutScenario,
  restScenario,
  fleetScenario,
  heartbeatScenario,
  dashboardScenario,
];
