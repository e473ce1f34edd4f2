import { abortableSleep } from '../backoff.js';
import type { ClusterStateWriter } from './cluster-state-writer.js';
import type { ClusterSync } from './cluster-sync.js';

/** The lease seam (`@knm/node-store`'s `LeaderLease` satisfies it). */
export interface Lease {
  /** Resolves with a new fencing epoch once this replica holds the lease; rejects when released or aborted. */
  acquire(signal?: AbortSignal): Promise<number>;
  /** Called once per lost lease. */
  onLost(listener: (reason: string) => void): void;
  /** True while this replica holds the lease. */
  readonly isLeader: boolean;
  /** Stops renewing and deletes the lease if it is still ours. */
  release(): Promise<void>;
}

/** What the loop reports (logs, metrics). */
export interface LeadershipObserver {
  /** Waiting for the lease. `reason` says why (start, lost, fenced). */
  onStandby?(reason: string): void;
  /** This replica leads with `epoch`. */
  onLeading?(epoch: number): void;
  /** Something failed around a term (registering, acquiring); the loop goes on. */
  onError?(error: Error): void;
}

/** Options of {@link LeadershipLoop}. */
export interface LeadershipLoopOptions {
  lease: Lease;
  sync: ClusterSync;
  /** Builds the writer of one term (fenced with `epoch`). */
  createWriter: (epoch: number) => ClusterStateWriter;
  /** Runs once per term before writing starts (e.g. register the cluster). Errors end the term. Default none. */
  beforeLead?: (writer: ClusterStateWriter, epoch: number) => Promise<void>;
  observer?: LeadershipObserver;
  /** How often to check that a fenced lease has noticed its loss. Default 100 ms. */
  pollMs?: number;
}

/**
 * Leader election around a {@link ClusterSync}: stand by until the lease is ours,
 * then lead with a writer fenced by the new epoch until the lease is lost or a write
 * is fenced; then stop writing at once and stand by again. `stop()` ends it: the
 * caller stops the sync (flushing pending writes) and then releases the lease.
 */
export class LeadershipLoop {
  private readonly controller = new AbortController();
  private readonly pollMs: number;
  private loop: Promise<void> | undefined;
  private endTerm: ((reason: string) => void) | undefined;
  private epochValue: number | undefined;
  private fenced = false;

  constructor(private readonly options: LeadershipLoopOptions) {
    this.pollMs = options.pollMs ?? 100;
    options.lease.onLost((reason) => this.endTerm?.(`lease lost: ${reason}`));
    options.sync.onFenced((error) => {
      this.fenced = true;
      this.endTerm?.(`fenced: ${error.message}`);
    });
  }

  /** The epoch of the current term, undefined while standing by. */
  get epoch(): number | undefined {
    return this.epochValue;
  }

  /** Starts the loop in the background. Idempotent. */
  start(): void {
    this.loop ??= this.run();
  }

  /** Ends the loop (stops waiting for the lease; a current term's writer is left to the caller's shutdown). */
  async stop(): Promise<void> {
    this.controller.abort(new Error('leadership loop stopped'));
    this.endTerm?.('stopping');
    await this.loop;
  }

  private async run(): Promise<void> {
    const { lease, sync, observer } = this.options;
    const signal = this.controller.signal;
    let reason = 'starting';
    while (!signal.aborted) {
      observer?.onStandby?.(reason);
      // After a fenced write the lease may not have noticed its loss yet (acquire would
      // hand back the stale epoch): wait until it has.
      while (this.fenced && lease.isLeader && !signal.aborted) await abortableSleep(this.pollMs, signal);
      this.fenced = false;
      let epoch: number;
      try {
        epoch = await lease.acquire(signal);
      } catch (err) {
        if (signal.aborted) break;
        observer?.onError?.(err instanceof Error ? err : new Error(String(err)));
        await abortableSleep(1_000, signal);
        continue;
      }
      if (signal.aborted) break;
      const ended = new Promise<string>((resolve) => (this.endTerm = resolve));
      const writer = this.options.createWriter(epoch);
      try {
        await this.options.beforeLead?.(writer, epoch);
      } catch (err) {
        observer?.onError?.(err instanceof Error ? err : new Error(String(err)));
        this.endTerm = undefined;
        reason = 'could not start the term';
        await abortableSleep(1_000, signal);
        continue;
      }
      this.epochValue = epoch;
      sync.lead(writer);
      observer?.onLeading?.(epoch);
      reason = await ended;
      this.endTerm = undefined;
      if (signal.aborted) break;
      this.epochValue = undefined;
      await sync.standBy();
    }
  }
}
