import { z } from 'zod';
import { readFlags } from '@knm/cli';
import { clusterNameErrors } from '@knm/contracts';

/** A command line kube-sim cannot run with; main prints the message and exits 2. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
}

/** The usage text printed with a usage error. */
export const USAGE = `usage: npm run sim -- [options]
  --port N             plain-HTTP port (0 = any free port; default 0)
  --tls-port N         HTTPS port the kubeconfig names (default 0)
  --host H             listen address (default 127.0.0.1)
  --nodes N            nodes in the world (default 50)
  --pods N             pods in the world (default 1500)
  --churn N            churn events per second (default 0; adjustable via POST /_sim/churn)
  --heartbeat S        seconds between kubelet heartbeats of each node (default 0 = off)
  --lease-seconds S    seconds between renewals of each node's Lease (default 10; 0 = no renewals)
  --seed N             world and simulation seed (default 1)
  --kubeconfig-out F   write a kubeconfig for kubectl and client-node to F
  --cluster-name NAME  cluster name (DNS label; default dev)
  --kubernetes-minor N minor version served by /version, 27..33 (default 32)
  --token T            bearer token (default: random)
  --bookmark-ms N      interval between watch bookmarks in ms (default 60000)
  --metrics-resolution S seconds between two metrics.k8s.io snapshots (default 15)
  --event-ttl S        seconds Events are kept (the API server's --event-ttl; default 3600)
  --no-metrics         serve no metrics.k8s.io API (as a cluster without metrics-server)`;

/** The parsed command line. */
export interface CliOptions {
  port: number;
  tlsPort: number;
  host: string;
  nodes: number;
  pods: number;
  churn: number;
  heartbeat: number;
  leaseSeconds: number;
  seed: number;
  kubeconfigOut: string | undefined;
  clusterName: string;
  kubernetesMinor: number;
  token: string | undefined;
  bookmarkMs: number;
  /** Whether metrics.k8s.io is served (false with --no-metrics). */
  metrics: boolean;
  metricsResolution: number;
  /** Seconds an Event is kept before it is deleted. */
  eventTtl: number;
}

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const Schema = z.object({
  port: int(0, 65535).default(0),
  'tls-port': int(0, 65535).default(0),
  host: z.string().min(1).default('127.0.0.1'),
  nodes: int(0, 100_000).default(50),
  pods: int(0, 2_000_000).default(1500),
  churn: z.coerce.number().min(0).max(100_000).default(0),
  heartbeat: z.coerce.number().min(0).max(86_400).default(0),
  'lease-seconds': z.coerce.number().min(0).max(86_400).default(10),
  seed: int(-2_147_483_648, 4_294_967_295).default(1),
  'kubeconfig-out': z.string().min(1).optional(),
  'cluster-name': z.string().default('dev'),
  'kubernetes-minor': int(27, 33).default(32),
  token: z.string().min(8).optional(),
  'bookmark-ms': int(10, 3_600_000).default(60_000),
  'metrics-resolution': z.coerce.number().min(0.01).max(3_600).default(15),
  'no-metrics': z.boolean().default(false),
  'event-ttl': z.coerce
    .number()
    .min(1)
    .max(86_400 * 7)
    .default(3_600),
});

/** The flags that take no value. */
const BOOLEAN_FLAGS: ReadonlySet<string> = new Set(['no-metrics']);

/** Parses argv (without node and script); throws {@link CliUsageError} on anything wrong. */
export function parseCli(argv: readonly string[]): CliOptions {
  const flags = Object.fromEntries(
    Object.keys(Schema.shape).map((k) => [
      k,
      BOOLEAN_FLAGS.has(k) ? ('boolean' as const) : ('string' as const),
    ]),
  );
  const values = readFlags(argv, flags, (m) => new CliUsageError(m));
  const parsed = Schema.safeParse(values);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; ');
    throw new CliUsageError(`bad option: ${problems}`);
  }
  const v = parsed.data;
  const nameErrors = clusterNameErrors(v['cluster-name']);
  if (nameErrors.length > 0) {
    throw new CliUsageError(`--cluster-name ${JSON.stringify(v['cluster-name'])}: ${nameErrors.join('; ')}`);
  }
  return {
    port: v.port,
    tlsPort: v['tls-port'],
    host: v.host,
    nodes: v.nodes,
    pods: v.pods,
    churn: v.churn,
    heartbeat: v.heartbeat,
    leaseSeconds: v['lease-seconds'],
    seed: v.seed,
    kubeconfigOut: v['kubeconfig-out'],
    clusterName: v['cluster-name'],
    kubernetesMinor: v['kubernetes-minor'],
    token: v.token,
    bookmarkMs: v['bookmark-ms'],
    metrics: !v['no-metrics'],
    metricsResolution: v['metrics-resolution'],
    eventTtl: v['event-ttl'],
  };
}
