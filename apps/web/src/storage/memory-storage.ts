import type { KeyValueStorage } from './dashboard-storage.js';

/**
 * A Web Storage kept in a Map, for specs: each store under test gets a fresh one
 * instead of the page's sessionStorage / localStorage (which Node does not have).
 */
export class MemoryStorage implements KeyValueStorage {
  readonly items = new Map<string, string>();

  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }

  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }

  removeItem(key: string): void {
    this.items.delete(key);
  }
}
