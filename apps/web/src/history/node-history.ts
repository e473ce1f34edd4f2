import { ref, shallowRef, type Ref, type ShallowRef } from 'vue';
import type { HistoryPage } from '@knm/contracts';
import { toHistoryLine, type HistoryLine } from './history-entry.js';

/** Reads one page of a node's history, newest first, before the entry ID `before`. */
export type HistoryPageLoader = (node: string, before?: string) => Promise<HistoryPage>;

/**
 * The timeline of the node in the drawer: the newest page, and older pages on
 * "Load older" (the page's `next`). A refresh reads the newest page again and keeps
 * the older pages already shown when the two overlap (no entry can be missing
 * between them); otherwise it starts over from the newest page. Answers of an older
 * read (another node, a refresh overtaken by the next) are dropped.
 */
export class NodeHistory {
  readonly lines: ShallowRef<HistoryLine[]> = shallowRef([]);
  /** The `before` of the next older page; undefined when the oldest entry is shown. */
  readonly next: Ref<string | undefined> = ref();
  readonly error: Ref<string | undefined> = ref();
  readonly loading: Ref<boolean> = ref(false);
  /** Whether a page was read for the current node (before: "Loading…"). */
  readonly loaded: Ref<boolean> = ref(false);

  private node: string | undefined;
  private reads = 0;

  constructor(private readonly load: HistoryPageLoader) {}

  /** Shows `node`'s timeline from its newest entry. */
  show(node: string): Promise<void> {
    this.node = node;
    this.lines.value = [];
    this.next.value = undefined;
    this.loaded.value = false;
    return this.refresh();
  }

  /** Reads the newest page again (the node changed, or Refresh). */
  async refresh(): Promise<void> {
    const node = this.node;
    if (node === undefined) return;
    await this.read(node, undefined, (page) => {
      const shown = this.lines.value;
      const newest = shown[0];
      const overlap = newest !== undefined && page.items.some((e) => e.id === newest.id);
      const fresh = page.items.map(toHistoryLine);
      if (overlap && shown.length > page.items.length) {
        const kept = new Set(fresh.map((l) => l.id));
        this.lines.value = [...fresh, ...shown.filter((l) => !kept.has(l.id))];
        return;
      }
      this.lines.value = fresh;
      this.next.value = page.next;
    });
  }

  /** Appends the next older page. */
  async loadOlder(): Promise<void> {
    const node = this.node;
    const before = this.next.value;
    if (node === undefined || before === undefined) return;
    await this.read(node, before, (page) => {
      this.lines.value = [...this.lines.value, ...page.items.map(toHistoryLine)];
      this.next.value = page.next;
    });
  }

  /** Stops applying answers (the drawer closed). */
  dispose(): void {
    this.reads += 1;
    this.node = undefined;
  }

  private async read(
    node: string,
    before: string | undefined,
    apply: (page: HistoryPage) => void,
  ): Promise<void> {
    const read = ++this.reads;
    this.loading.value = true;
    try {
      const page = await this.load(node, before);
      if (read !== this.reads) return;
      apply(page);
      this.loaded.value = true;
      this.error.value = undefined;
    } catch (err) {
      if (read !== this.reads) return;
      this.error.value = err instanceof Error ? err.message : String(err);
    } finally {
      if (read === this.reads) this.loading.value = false;
    }
  }
}
