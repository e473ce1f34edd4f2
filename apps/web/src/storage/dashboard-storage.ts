/** The part of the Web Storage interface the dashboard uses (a `Storage` satisfies it). */
export type KeyValueStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

/**
 * Everything the dashboard keeps in the browser, behind one injected object so specs
 * hand it in-memory stores instead of touching the page's: `session` lives as long
 * as the tab (the token), `local` outlives it (preferences such as the last cluster).
 */
export interface DashboardStorage {
  readonly session: KeyValueStorage;
  readonly local: KeyValueStorage;
}

/** The page's own storage: `sessionStorage` and `localStorage`. */
export function browserStorage(): DashboardStorage {
  return { session: globalThis.sessionStorage, local: globalThis.localStorage };
}
