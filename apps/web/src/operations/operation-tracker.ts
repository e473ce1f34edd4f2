import { io, type Socket } from 'socket.io-client';
import {
  OPERATION_PROGRESS_EVENT,
  OperationProgressEventSchema,
  REALTIME_NAMESPACE,
  isFinalOperationState,
  type Operation,
} from '@knm/contracts';

/**
 * Whether `next` may replace `current` (two copies of one operation arriving by
 * event and by poll, in any order): never from a final state back to a running one,
 * never with fewer nodes done.
 */
export function isNewer(current: Operation, next: Operation): boolean {
  if (isFinalOperationState(current.state) && !isFinalOperationState(next.state)) return false;
  return next.progress.done >= current.progress.done;
}

/** Options of {@link OperationTracker}. */
export interface OperationTrackerOptions {
  /** Gateway base URL; default the page's origin. */
  url?: string;
  token: () => string | undefined;
  /** Reads one operation (REST), for the poll that backs the events up. */
  get: (id: string) => Promise<Operation>;
  /** Called with every operation tracked, newest first, after each change. */
  onChange: (operations: readonly Operation[]) => void;
  /** Poll unfinished operations this often, in case an event was missed (reconnect). Default 3,000 ms. */
  pollMs?: number;
  /** Finished operations kept on screen at most. Default 5. */
  keepFinished?: number;
}

/**
 * Follows the operations this tab started to their end: `operation_progress`
 * events on a socket of its own (the gateway sends them to the user's sockets and
 * the cluster's watchers; libs/client does not expose other events than envelopes),
 * plus a REST poll of unfinished operations so a missed event (during a reconnect)
 * cannot leave a progress bar stuck. An older copy never replaces a newer one
 * (`progress.done` never goes backwards; a final state is kept).
 */
export class OperationTracker {
  private readonly socket: Socket;
  private readonly operations = new Map<string, Operation>();
  private readonly order: string[] = [];
  private readonly pollTimer: ReturnType<typeof setInterval>;

  constructor(private readonly options: OperationTrackerOptions) {
    this.socket = io(`${options.url ?? globalThis.location.origin}${REALTIME_NAMESPACE}`, {
      transports: ['websocket'],
      auth: (cb: (data: object) => void) => cb({ token: options.token() }),
    });
    this.socket.on(OPERATION_PROGRESS_EVENT, (raw: unknown) => {
      const operation = OperationProgressEventSchema.safeParse(raw);
      if (operation.success && this.operations.has(operation.data.id)) this.update(operation.data);
    });
    this.pollTimer = setInterval(() => void this.poll(), options.pollMs ?? 3_000);
  }

  /** Starts following `operation` (as the 202 answer returned it). */
  track(operation: Operation): void {
    if (!this.operations.has(operation.id)) this.order.unshift(operation.id);
    this.update(operation, true);
  }

  /** Removes a finished operation from the list. */
  dismiss(id: string): void {
    this.operations.delete(id);
    const i = this.order.indexOf(id);
    if (i >= 0) this.order.splice(i, 1);
    this.publish();
  }

  close(): void {
    clearInterval(this.pollTimer);
    this.socket.removeAllListeners();
    this.socket.disconnect();
  }

  private update(next: Operation, force = false): void {
    const current = this.operations.get(next.id);
    if (current && !force && !isNewer(current, next)) return;
    this.operations.set(next.id, next);
    this.prune();
    this.publish();
  }

  private prune(): void {
    const keep = this.options.keepFinished ?? 5;
    let finished = 0;
    for (const id of [...this.order]) {
      const op = this.operations.get(id);
      if (op && isFinalOperationState(op.state) && ++finished > keep) this.dismiss(id);
    }
  }

  private async poll(): Promise<void> {
    for (const op of [...this.operations.values()]) {
      if (isFinalOperationState(op.state)) continue;
      try {
        this.update(await this.options.get(op.id));
      } catch {
        // The next poll or event will tell; the bar keeps its last known state.
      }
    }
  }

  private publish(): void {
    this.options.onChange(this.order.map((id) => this.operations.get(id)).filter((o): o is Operation => !!o));
  }
}
