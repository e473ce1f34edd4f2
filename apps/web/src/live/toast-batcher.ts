import type { ChangeNote } from './change-description.js';

/** One toast on screen. */
export interface Toast {
  id: number;
  text: string;
  /** `change`: one node's change; `summary`: many changes at once. */
  kind: 'change' | 'summary';
  /** The node of a `change` toast (the toast opens its drawer). */
  node?: string;
}

/** Timer functions, injectable so tests control time. */
export interface ToastTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Options of {@link ToastBatcher}. */
export interface ToastBatcherOptions {
  /** Changes arriving within this window after the first are shown together. Default 400 ms. */
  windowMs?: number;
  /** A window with at most this many changes shows one toast each; more -> one summary. Default 3. */
  maxIndividual?: number;
  /** How long a toast stays. Default 6,000 ms. */
  ttlMs?: number;
  /** Toasts on screen at most (the oldest goes). Default 4. */
  maxVisible?: number;
  /** Default the global timers. */
  timers?: ToastTimers;
}

interface Summary {
  changes: number;
  nodes: Set<string>;
  kinds: Map<string, number>;
}

/**
 * Turns a stream of node changes into a calm toast list. Changes are collected for
 * `windowMs`; a small window shows one toast per change ("labels updated on
 * node-12"), a large one a single summary ("120 changes on 80 nodes: labels 70,
 * status 50"). While a summary is on screen, further summaries fold into it (its
 * counts grow and its time restarts) instead of stacking: a storm of changes shows
 * one toast, never a storm of toasts. `onChange` receives the list after each change.
 */
export class ToastBatcher {
  private readonly windowMs: number;
  private readonly maxIndividual: number;
  private readonly ttlMs: number;
  private readonly maxVisible: number;
  private readonly timers: ToastTimers;
  private pending: ChangeNote[] = [];
  private windowTimer: unknown;
  private nextId = 1;
  private visible: Toast[] = [];
  private readonly expiry = new Map<number, unknown>();
  private summary: { id: number; data: Summary } | undefined;

  constructor(
    private readonly onChange: (toasts: readonly Toast[]) => void,
    options: ToastBatcherOptions = {},
  ) {
    this.windowMs = options.windowMs ?? 400;
    this.maxIndividual = options.maxIndividual ?? 3;
    this.ttlMs = options.ttlMs ?? 6_000;
    this.maxVisible = options.maxVisible ?? 4;
    this.timers = options.timers ?? {
      setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
      clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
    };
  }

  /** The toasts on screen, oldest first. */
  get toasts(): readonly Toast[] {
    return this.visible;
  }

  /** Queues a change for the current window. */
  push(note: ChangeNote): void {
    this.pending.push(note);
    if (this.windowTimer === undefined) {
      this.windowTimer = this.timers.setTimeout(() => this.flush(), this.windowMs);
    }
  }

  /** Removes a toast (its close button, or Escape). */
  dismiss(id: number): void {
    const handle = this.expiry.get(id);
    if (handle !== undefined) this.timers.clearTimeout(handle);
    this.expiry.delete(id);
    if (this.summary?.id === id) this.summary = undefined;
    const before = this.visible.length;
    this.visible = this.visible.filter((t) => t.id !== id);
    if (this.visible.length !== before) this.onChange(this.visible);
  }

  /** Drops everything (sign-out, cluster switch). */
  clear(): void {
    if (this.windowTimer !== undefined) this.timers.clearTimeout(this.windowTimer);
    this.windowTimer = undefined;
    this.pending = [];
    for (const t of [...this.visible]) this.dismiss(t.id);
  }

  private flush(): void {
    this.windowTimer = undefined;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    if (batch.length <= this.maxIndividual && !this.summary) {
      for (const note of batch)
        this.show({ id: this.nextId++, text: note.text, kind: 'change', node: note.node });
      this.onChange(this.visible);
      return;
    }
    const data: Summary = this.summary?.data ?? { changes: 0, nodes: new Set(), kinds: new Map() };
    for (const note of batch) {
      data.changes += 1;
      data.nodes.add(note.node);
      for (const kind of note.kinds) data.kinds.set(kind, (data.kinds.get(kind) ?? 0) + 1);
    }
    const text = summaryText(data);
    if (this.summary) {
      const id = this.summary.id;
      this.visible = this.visible.map((t) => (t.id === id ? { ...t, text } : t));
      this.armExpiry(id);
    } else {
      const id = this.nextId++;
      this.summary = { id, data };
      this.show({ id, text, kind: 'summary' });
    }
    this.onChange(this.visible);
  }

  private show(toast: Toast): void {
    this.visible = [...this.visible, toast];
    while (this.visible.length > this.maxVisible) {
      const oldest = this.visible[0];
      if (!oldest) break;
      const handle = this.expiry.get(oldest.id);
      if (handle !== undefined) this.timers.clearTimeout(handle);
      this.expiry.delete(oldest.id);
      if (this.summary?.id === oldest.id) this.summary = undefined;
      this.visible = this.visible.slice(1);
    }
    this.armExpiry(toast.id);
  }

  private armExpiry(id: number): void {
    const previous = this.expiry.get(id);
    if (previous !== undefined) this.timers.clearTimeout(previous);
    this.expiry.set(
      id,
      this.timers.setTimeout(() => this.dismiss(id), this.ttlMs),
    );
  }
}

function summaryText(data: Summary): string {
  const kinds = [...data.kinds.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const nodes = data.nodes.size === 1 ? '1 node' : `${data.nodes.size} nodes`;
  const changes = data.changes === 1 ? '1 change' : `${data.changes} changes`;
  return `${changes} on ${nodes}: ${kinds}`;
}
