import type { Operation } from '@knm/contracts';
import { isFleetOperationFinal, memberIds, withProgress, type FleetOperation } from './fleet-operation.js';

/**
 * The fleet operations this tab started, newest first. Each holds the latest copy
 * of its clusters' operations itself (fed by {@link observe} from the tracker), so
 * the tracker dropping a finished member from its own list loses nothing here.
 */
export class FleetOperationList {
  private items: FleetOperation[] = [];

  /**
   * @param onChange called with the list after each change
   * @param keepFinished finished fleet operations kept at most (older ones drop off)
   */
  constructor(
    private readonly onChange: (fleets: readonly FleetOperation[]) => void,
    private readonly keepFinished = 5,
  ) {}

  get(id: string): FleetOperation | undefined {
    return this.items.find((f) => f.id === id);
  }

  add(fleet: FleetOperation): void {
    this.items = [fleet, ...this.items];
    this.publish();
  }

  /** Replaces fleet operation `id` by `change(it)` (no-op for an unknown id). */
  update(id: string, change: (fleet: FleetOperation) => FleetOperation): void {
    const i = this.items.findIndex((f) => f.id === id);
    const current = this.items[i];
    if (!current) return;
    const next = change(current);
    if (next === current) return;
    this.items = this.items.with(i, next);
    this.publish();
  }

  /** Takes in the tracker's latest copies; those of no fleet operation are ignored. */
  observe(operations: readonly Operation[]): void {
    let changed = false;
    this.items = this.items.map((fleet) => {
      const next = operations.reduce(withProgress, fleet);
      if (next !== fleet) changed = true;
      return next;
    });
    if (changed) this.publish();
  }

  dismiss(id: string): void {
    const before = this.items.length;
    this.items = this.items.filter((f) => f.id !== id);
    if (this.items.length !== before) this.publish();
  }

  /** The ids of every cluster operation a fleet operation here started (shown inside it, not alone). */
  memberIds(): Set<string> {
    return new Set(this.items.flatMap(memberIds));
  }

  private publish(): void {
    let finished = 0;
    this.items = this.items.filter((f) => !isFleetOperationFinal(f) || ++finished <= this.keepFinished);
    this.onChange(this.items);
  }
}
