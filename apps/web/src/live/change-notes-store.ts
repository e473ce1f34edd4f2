import { ref, shallowRef, type ShallowRef } from 'vue';
import type { ChangeNote } from './change-description.js';
import { ToastBatcher, type Toast } from './toast-batcher.js';

/** A change remembered for a node's drawer. */
export interface SeenChange {
  at: number;
  text: string;
}

/** Options of {@link ChangeNotesStore}. */
export interface ChangeNotesOptions {
  /** Changes kept per node for its drawer. Default 20. */
  recentPerNode?: number;
}

/**
 * What the person is told about changes as they arrive: a toast (batched, see
 * {@link ToastBatcher}) and an entry in the node's recent changes (its drawer). Only
 * what this tab has seen since it opened the cluster: there is no server-side history.
 */
export class ChangeNotesStore {
  readonly toasts: ShallowRef<readonly Toast[]> = shallowRef([]);
  /** Bumped whenever a node's recent changes grow (the drawer re-reads them). */
  readonly recentVersion = ref(0);

  private readonly recent = new Map<string, SeenChange[]>();
  private readonly toastBatcher = new ToastBatcher((toasts) => (this.toasts.value = toasts));
  private readonly recentPerNode: number;

  constructor(options: ChangeNotesOptions = {}) {
    this.recentPerNode = options.recentPerNode ?? 20;
  }

  /** Changes seen for `name`, newest first. */
  recentChanges(name: string): SeenChange[] {
    void this.recentVersion.value;
    return [...(this.recent.get(name) ?? [])].reverse();
  }

  /** Tells of one change: a toast, and a line in its node's recent changes. */
  add(note: ChangeNote): void {
    const list = this.recent.get(note.node) ?? [];
    list.push({ at: Date.now(), text: note.text });
    if (list.length > this.recentPerNode) list.splice(0, list.length - this.recentPerNode);
    this.recent.set(note.node, list);
    this.recentVersion.value += 1;
    this.toastBatcher.push(note);
  }

  dismissToast(id: number): void {
    this.toastBatcher.dismiss(id);
  }

  /** Forgets everything (sign-out, cluster switch): those changes were another view's. */
  clear(): void {
    this.recent.clear();
    this.toastBatcher.clear();
  }
}
