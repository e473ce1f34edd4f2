import { shallowRef, type ShallowRef } from 'vue';
import type { Operation } from '@knm/contracts';
import { OperationsApi, OperationsApiError } from './operations-api.js';
import { OperationTracker } from './operation-tracker.js';

/** Options of {@link OperationsStore}. */
export interface OperationsStoreOptions {
  /** Gateway base URL. */
  url: string;
  /** The current bearer token. */
  token: () => string | undefined;
}

/**
 * The node operations of this tab: the REST API the operation dialog starts them
 * with, and the ones this tab follows to their end (progress, cancel, dismiss).
 * Following needs a connection of its own: it is opened on sign-in and closed on
 * sign-out.
 */
export class OperationsStore {
  readonly api: OperationsApi;
  /** The operations followed, newest first. */
  readonly operations: ShallowRef<readonly Operation[]> = shallowRef([]);

  private tracker: OperationTracker | undefined;

  constructor(private readonly options: OperationsStoreOptions) {
    this.api = new OperationsApi({ baseUrl: options.url, token: options.token });
  }

  /** Starts following progress (sign-in); replaces a previous connection. */
  open(): void {
    this.close();
    this.tracker = new OperationTracker({
      url: this.options.url,
      token: this.options.token,
      get: (id) => this.api.get(id),
      onChange: (ops) => (this.operations.value = ops),
    });
  }

  close(): void {
    this.tracker?.close();
    this.tracker = undefined;
  }

  /** Follows a started operation's progress. */
  track(operation: Operation): void {
    this.tracker?.track(operation);
  }

  /**
   * Cancels an operation this tab follows; the answer (`cancelled`, or `running` with
   * its cancel mark) replaces the one shown, and `operation_progress` brings the rest.
   * A refusal (it had just finished: 409) changes nothing: the next event or poll shows
   * the state it reached.
   */
  async cancel(id: string): Promise<void> {
    try {
      this.tracker?.track(await this.api.cancel(id));
    } catch (err) {
      if (!(err instanceof OperationsApiError)) throw err;
    }
  }

  dismiss(id: string): void {
    this.tracker?.dismiss(id);
  }
}
