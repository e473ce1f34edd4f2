import type { NodeAllocation } from '@knm/contracts';
import type { PodCountIndex } from '../pod-count-index.js';

/**
 * Turns a pod index's stream of per-node deltas into few writes: the first delta after
 * a flush arms a timer of `coalesceMs`; when it fires, `onDue` runs and whoever writes
 * `take()`s everything that accumulated meanwhile as one write. Remembers when the
 * oldest pending delta arrived (for the event-to-Redis lag).
 */
export class PodDeltaCoalescer {
  private timer: NodeJS.Timeout | undefined;
  private oldestAt: number | undefined;

  constructor(
    private readonly index: PodCountIndex,
    private readonly coalesceMs: number,
    private readonly now: () => number,
    private readonly onDue: () => void,
  ) {}

  /** Notes that the index has pending deltas and arms the timer if it is not armed. */
  arm(): void {
    if (!this.index.hasPendingDeltas) return;
    this.oldestAt ??= this.now();
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.onDue();
    }, this.coalesceMs);
  }

  /**
   * The pending net count deltas (zeros left out), the absolute allocation of the
   * nodes whose allocation may have changed, and when the oldest change arrived;
   * forgets them.
   */
  take(): {
    deltas: Record<string, number>;
    allocation: Record<string, NodeAllocation>;
    since: number | undefined;
  } {
    const since = this.oldestAt;
    this.oldestAt = undefined;
    return { deltas: this.index.takeDeltas(), allocation: this.index.takeAllocation(), since };
  }

  /**
   * Forgets the pending deltas: a standby writes none, so keeping them would only
   * grow with every node name it sees.
   */
  discard(): void {
    this.cancel();
    this.oldestAt = undefined;
    this.index.clearDeltas();
  }

  /** Disarms the timer (the deltas stay pending). */
  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
