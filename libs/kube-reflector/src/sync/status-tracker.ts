import type { WatcherStatus } from './cluster-state-writer.js';

/** A status with its error, as written to the cluster's meta. */
export interface WantedStatus {
  status: WatcherStatus;
  error?: string;
}

/**
 * The status the engine wants the cluster to show, and what the current term's writer
 * has written of it: `degraded` (with the first failing resource's error) while a list
 * or watch request fails, `syncing` until both resources are listed, `ready` after.
 * `ready` is never claimed before the state is in Redis.
 */
export class StatusTracker {
  private readonly unhealthy = new Map<string, Error>();
  private wantedValue: WantedStatus = { status: 'syncing' };
  private written: string | undefined;

  constructor(private readonly synced: () => boolean) {}

  get wanted(): WantedStatus {
    return { ...this.wantedValue };
  }

  /** Records a resource's reachability; true when the wanted status changed. */
  setHealth(resource: string, healthy: boolean, error?: Error): boolean {
    if (healthy) this.unhealthy.delete(resource);
    else this.unhealthy.set(resource, error ?? new Error('unreachable'));
    return this.refresh();
  }

  /** Recomputes the wanted status (after a list); true when it changed. */
  refresh(): boolean {
    let wanted: WantedStatus;
    const failure = [...this.unhealthy.entries()][0];
    if (failure) wanted = { status: 'degraded', error: `${failure[0]}: ${failure[1].message}` };
    else if (!this.synced()) wanted = { status: 'syncing' };
    else wanted = { status: 'ready' };
    if (wanted.status === this.wantedValue.status && wanted.error === this.wantedValue.error) return false;
    this.wantedValue = wanted;
    return true;
  }

  /** What to write now (`stateWritten`: the state is in Redis), or undefined when it is written already. */
  due(stateWritten: boolean): WantedStatus | undefined {
    const { status, error } = this.wantedValue;
    const effective: WantedStatus = { status: status === 'ready' && !stateWritten ? 'syncing' : status };
    if (error !== undefined) effective.error = error;
    return keyOf(effective) === this.written ? undefined : effective;
  }

  /** `status` is now in Redis (written, or set by a rebuild). */
  markWritten(status: WantedStatus): void {
    this.written = keyOf(status);
  }

  /** A new writer: nothing is known to be written by it. */
  forgetWritten(): void {
    this.written = undefined;
  }
}

function keyOf(status: WantedStatus): string {
  return `${status.status}\u0000${status.error ?? ''}`;
}
