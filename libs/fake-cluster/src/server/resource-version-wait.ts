import type { ClusterStore } from '../store/cluster-store.js';

/**
 * Resolves once the store has reached resourceVersion `rv` (true) or after
 * `timeoutMs` (false), as the API server's watch cache blocks a read at a version it
 * has not seen yet (up to 3 s) before answering 504 "Too large resource version".
 */
export function waitForResourceVersion(store: ClusterStore, rv: number, timeoutMs: number): Promise<boolean> {
  if (store.resourceVersion >= rv) return Promise.resolve(true);
  return new Promise((resolve) => {
    const settle = (reached: boolean) => {
      clearTimeout(timer);
      unsubscribe();
      resolve(reached);
    };
    const timer = setTimeout(() => settle(false), timeoutMs);
    const unsubscribe = store.subscribe((event) => {
      if (event.rv >= rv) settle(true);
    });
  });
}
