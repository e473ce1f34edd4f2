import { spawn, type ChildProcess } from 'node:child_process';
import { extname, join } from 'node:path';
import type { FullView } from './compact-view.js';
import type { Probe, ProbeDeliveries } from './probe-arrivals.js';
import type {
  FleetClientView,
  FleetCommand,
  FleetProcessConfig,
  FleetProcessStats,
  FleetReplies,
  FleetReply,
} from './protocol.js';
import { TYPESCRIPT_ENV, typeScriptNodeArgs, WORKSPACE_ROOT } from '../processes.js';

/** Options of {@link startClientFleet}. */
export interface ClientFleetOptions {
  /** Gateway base URLs; client i starts on `gatewayUrls[i % n]` and moves to the next one on a reconnect. */
  gatewayUrls: readonly string[];
  /**
   * REST base URL for each gateway URL (same index): where a client reads its snapshot
   * when its socket goes elsewhere (e.g. through a throttling proxy). Default `gatewayUrls`.
   */
  restUrls?: readonly string[];
  /** Bearer token of every client (a viewer token for `cluster` is enough). */
  token: string;
  /** The cluster every client watches. */
  cluster: string;
  /** Number of clients. */
  clients: number;
  /** Child processes the clients are spread over. Default: one per 1,000 clients (at least 1). */
  processes?: number;
  /**
   * Node label whose value is a send time (ms since the epoch, as
   * `performance.timeOrigin + performance.now()`, decimals allowed); each client
   * records now − value when a change of it arrives live. Default `knm.bench/probe`.
   */
  probeLabel?: string;
  /** Clients per process connecting and loading their snapshot at once. Default 20. */
  connectConcurrency?: number;
  /** Heap limit of each process in MiB. Default 4,096. */
  maxOldSpaceMb?: number;
}

/** A client's place in the fleet: its process and its index there. */
export interface FleetClientRef {
  process: number;
  client: number;
}

/** Many real Socket.IO clients watching one cluster; see {@link startClientFleet}. */
export interface ClientFleet {
  /** Total clients. */
  readonly size: number;
  /** Resolves when every client is live (connected, snapshot loaded, subscribed); rejects after `timeoutMs` (default 120 s). */
  ready(timeoutMs?: number): Promise<void>;
  /** Per process: counters and live/connected clients. */
  stats(): Promise<FleetProcessStats[]>;
  /**
   * What every client made of `probes` (each a label value set at kube-sim), from the
   * probe values they saw arrive live since the last {@link resetProbes}: summed over
   * the processes ({@link ProbeDeliveries}).
   */
  probeDeliveries(probes: readonly Probe[]): Promise<ProbeDeliveries>;
  /** Forgets the probe arrivals recorded so far. */
  resetProbes(): Promise<void>;
  /** Every client's view digest and state, in fleet order (process by process); compare with {@link viewDigest} of the truth. */
  views(): Promise<FleetClientView[]>;
  /** One client's full view (node -> resourceVersion, node -> pod count), for diagnosis. */
  fullView(ref: FleetClientRef): Promise<FullView>;
  /**
   * RSS and heap of each process; `afterGc`: the heap is measured after a forced full
   * GC (what a leak shows in; RSS grows in steps as V8 enlarges its heap).
   */
  memory(options?: { afterGc?: boolean }): Promise<{ rssBytes: number; heapUsedBytes: number }[]>;
  /** Closes every client and ends the processes. */
  close(): Promise<void>;
}

class FleetProcess {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private output = '';
  readonly exited: Promise<void>;

  constructor(
    readonly index: number,
    readonly child: ChildProcess,
  ) {
    child.on('message', (reply: FleetReply) => {
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if ('error' in reply) waiter.reject(new Error(`fleet process ${index}: ${reply.error}`));
      else waiter.resolve(reply.result);
    });
    const keep = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString('utf8')).slice(-4_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        for (const w of this.pending.values())
          w.reject(new Error(`fleet process ${index} exited (${code ?? signal}): ${this.output}`));
        this.pending.clear();
        resolve();
      });
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  request<C extends FleetCommand['cmd']>(
    command: Omit<Extract<FleetCommand, { cmd: C }>, 'id'>,
  ): Promise<FleetReplies[C]> {
    if (!this.running)
      return Promise.reject(new Error(`fleet process ${this.index} is not running: ${this.output}`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ ...command, id });
    });
  }
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/** The worker entry next to this file: `.ts` from source (run through tsx), `.js` from dist. */
function workerArgs(): string[] {
  const ext = extname(import.meta.filename);
  const file = join(import.meta.dirname, `fleet-worker${ext}`);
  return ext === '.ts' ? typeScriptNodeArgs(file.slice(WORKSPACE_ROOT.length + 1)) : [file];
}

/**
 * Starts `clients` real Socket.IO clients of knm gateways, spread over `processes`
 * child processes (so they do not share one event loop) and over the gateway URLs
 * round-robin, each watching `cluster` with the SDK's resume protocol on a compact
 * view (about 12 bytes a node; see `FleetClient`). Clients open `connectConcurrency`
 * at a time per process. Every process is SIGKILLed if the caller exits without
 * `close()`.
 */
export function startClientFleet(options: ClientFleetOptions): ClientFleet {
  if (options.gatewayUrls.length === 0) throw new RangeError('at least one gateway URL is needed');
  if (!Number.isInteger(options.clients) || options.clients < 1)
    throw new RangeError('clients must be a positive integer');
  const count = Math.min(
    options.clients,
    Math.max(1, options.processes ?? Math.ceil(options.clients / 1_000)),
  );
  const processes: FleetProcess[] = [];
  let first = 0;
  for (let p = 0; p < count; p++) {
    const clients = Math.floor(options.clients / count) + (p < options.clients % count ? 1 : 0);
    const config: FleetProcessConfig = {
      urls: options.gatewayUrls.map((u) => u.replace(/\/+$/, '')),
      ...(options.restUrls ? { restUrls: options.restUrls.map((u) => u.replace(/\/+$/, '')) } : {}),
      token: options.token,
      cluster: options.cluster,
      clients,
      firstClient: first,
      probeLabel: options.probeLabel ?? 'knm.bench/probe',
      connectConcurrency: options.connectConcurrency ?? 20,
    };
    first += clients;
    const child = spawn(
      process.execPath,
      [`--max-old-space-size=${options.maxOldSpaceMb ?? 4_096}`, ...workerArgs()],
      {
        cwd: WORKSPACE_ROOT,
        env: {
          ...TYPESCRIPT_ENV,
          ...process.env,
          KNM_FLEET_CONFIG: JSON.stringify(config),
          KNM_FLEET_PROCESS: String(p),
        },
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      },
    );
    live.add(child);
    child.once('exit', () => live.delete(child));
    processes.push(new FleetProcess(p, child));
  }
  const all = <C extends FleetCommand['cmd']>(
    command: Omit<Extract<FleetCommand, { cmd: C }>, 'id'>,
  ): Promise<FleetReplies[C][]> => Promise.all(processes.map((p) => p.request<C>(command)));

  return {
    size: options.clients,
    async ready(timeoutMs = 120_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const stats = await all<'stats'>({ cmd: 'stats' });
        const liveClients = stats.reduce((s, p) => s + p.live, 0);
        if (liveClients === options.clients) return;
        if (Date.now() > deadline) {
          const errors = stats.map((p) => p.lastError).filter(Boolean);
          throw new Error(
            `client fleet: ${liveClients} of ${options.clients} clients live after ${timeoutMs} ms${errors.length ? `; last errors: ${errors.join('; ')}` : ''}`,
          );
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    stats: () => all<'stats'>({ cmd: 'stats' }),
    async probeDeliveries(probes) {
      const parts = await all<'probeDeliveries'>({ cmd: 'probeDeliveries', probes: [...probes] });
      return {
        latencyMs: parts.flatMap((p) => p.latencyMs),
        superseded: parts.reduce((n, p) => n + p.superseded, 0),
        missing: parts.reduce((n, p) => n + p.missing, 0),
        dropped: parts.reduce((n, p) => n + p.dropped, 0),
      };
    },
    async resetProbes() {
      await all<'resetProbes'>({ cmd: 'resetProbes' });
    },
    async views() {
      return (await all<'views'>({ cmd: 'views' })).flat();
    },
    fullView(ref) {
      const p = processes[ref.process];
      if (!p) return Promise.reject(new RangeError(`no fleet process ${ref.process}`));
      return p.request<'fullView'>({ cmd: 'fullView', client: ref.client });
    },
    memory: (options = {}) => all<'memory'>({ cmd: 'memory', ...options }),
    async close() {
      await Promise.all(
        processes.map(async (p) => {
          if (!p.running) return;
          const timer = setTimeout(() => p.child.kill('SIGKILL'), 5_000);
          await p.request<'close'>({ cmd: 'close' }).catch(() => undefined);
          await p.exited;
          clearTimeout(timer);
        }),
      );
    },
  };
}
