import { computed, shallowRef, type ComputedRef, type ShallowRef } from 'vue';
import { isFinalOperationState, type Operation } from '@knm/contracts';
import { FleetOperationList } from './fleet-operation-list.js';
import { newFleetOperation, withRefused, withStarted, type FleetOperation } from './fleet-operation.js';
import { startPerCluster, type ClusterRequest } from './fleet-operation-start.js';
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
 * An operation across clusters (the "All clusters" view) is a fleet operation: one
 * operation per cluster, followed like the others but listed only inside it.
 * Following needs a connection of its own: it is opened on sign-in and closed on
 * sign-out.
 */
export class OperationsStore {
  readonly api: OperationsApi;
  /** The operations followed, newest first. */
  readonly operations: ShallowRef<readonly Operation[]> = shallowRef([]);
  /** The fleet operations started from this tab, newest first. */
  readonly fleetOperations: ShallowRef<readonly FleetOperation[]> = shallowRef([]);
  /** The operations shown on their own: those followed, less the fleet operations' members. */
  readonly standalone: ComputedRef<readonly Operation[]>;

  private tracker: OperationTracker | undefined;
  private readonly fleets = new FleetOperationList((fleets) => (this.fleetOperations.value = fleets));
  private fleetCount = 0;

  constructor(private readonly options: OperationsStoreOptions) {
    this.api = new OperationsApi({ baseUrl: options.url, token: options.token });
    this.standalone = computed(() => {
      // Read so the list follows fleet operations gaining members.
      void this.fleetOperations.value;
      const members = this.fleets.memberIds();
      return this.operations.value.filter((op) => !members.has(op.id));
    });
  }

  /** Starts following progress (sign-in); replaces a previous connection. */
  open(): void {
    this.close();
    this.tracker = new OperationTracker({
      url: this.options.url,
      token: this.options.token,
      get: (id) => this.api.get(id),
      onChange: (ops) => {
        this.fleets.observe(ops);
        this.operations.value = ops;
      },
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

  /**
   * Starts a fleet operation: one operation per cluster (`requests`, one per
   * cluster), all at once; each started one is followed, each refusal recorded with
   * its reason, and a cluster that answers after Cancel was pressed is cancelled too.
   * Resolves once every cluster has answered.
   */
  async startFleet(requests: readonly ClusterRequest[]): Promise<void> {
    const action = requests[0]?.request.action;
    if (action === undefined) return;
    const id = `fleet-${++this.fleetCount}`;
    const groups = requests.map((r) => ({ cluster: r.cluster, nodes: r.request.nodes ?? [] }));
    this.fleets.add(newFleetOperation(id, action, groups, new Date().toISOString()));
    await startPerCluster(this.api, requests, (outcome) => {
      if ('reason' in outcome) {
        this.fleets.update(id, (f) => withRefused(f, outcome.cluster, outcome.reason));
        return;
      }
      this.fleets.update(id, (f) => withStarted(f, outcome.cluster, outcome.operation));
      this.track(outcome.operation);
      if (this.fleets.get(id)?.cancelRequested) void this.cancel(outcome.operation.id);
    });
  }

  /** Cancels every cluster's operation of fleet operation `id` that has not finished. */
  async cancelFleet(id: string): Promise<void> {
    this.fleets.update(id, (f) => ({ ...f, cancelRequested: true }));
    const fleet = this.fleets.get(id);
    if (!fleet) return;
    await Promise.all(
      fleet.parts.flatMap((p) =>
        p.status === 'started' && !isFinalOperationState(p.operation.state)
          ? [this.cancel(p.operation.id)]
          : [],
      ),
    );
  }

  /** Removes a finished fleet operation (and its members) from the list. */
  dismissFleet(id: string): void {
    const fleet = this.fleets.get(id);
    this.fleets.dismiss(id);
    for (const part of fleet?.parts ?? []) if (part.status === 'started') this.dismiss(part.operation.id);
  }
}
