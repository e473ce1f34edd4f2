import { AsyncLocalStorage } from 'node:async_hooks';

/** The person an operation's API calls act as. */
export interface ActingAs {
  user: string;
  groups: readonly string[];
}

/**
 * Operations as the person: the {@link KubeApiClient} sends `Impersonate-User` and one
 * `Impersonate-Group` per group with every call made inside {@link run}, so the
 * cluster's own RBAC decides what the person may change. Carried by async context
 * rather than through every step's signature: one operation's steps, retries and
 * drain rounds all run inside its `run`, and operations running side by side each
 * keep their own person.
 */
export class Impersonation {
  private readonly current = new AsyncLocalStorage<ActingAs>();

  /** Runs `work` with every API call acting as `as`. */
  run<T>(as: ActingAs, work: () => Promise<T>): Promise<T> {
    return this.current.run(as, work);
  }

  /** The impersonation headers of a call made now (none outside {@link run}). */
  headers(): Record<string, string | string[]> {
    const as = this.current.getStore();
    if (as === undefined) return {};
    return {
      'Impersonate-User': as.user,
      ...(as.groups.length > 0 ? { 'Impersonate-Group': [...as.groups] } : {}),
    };
  }
}
