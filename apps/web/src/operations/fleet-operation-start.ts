import type { CreateOperationRequestInput, CreateOperationResponse, Operation } from '@knm/contracts';
import { OperationsApiError, describeOperationError } from './operations-api.js';

/** The operation one cluster is asked to run (its nodes in `request.nodes`). */
export interface ClusterRequest {
  cluster: string;
  request: CreateOperationRequestInput;
}

/** How one cluster answered: the operation it started, or why it refused. */
export type ClusterStartOutcome =
  { cluster: string; operation: Operation } | { cluster: string; reason: string };

/** The one call {@link startPerCluster} needs (OperationsApi's). */
export interface OperationCreator {
  create(cluster: string, request: CreateOperationRequestInput): Promise<CreateOperationResponse>;
}

/** A refusal as the combined view shows it: the status (403, 409, ...) and the gateway's words. */
export function refusalReason(err: unknown): string {
  const message = describeOperationError(err);
  return err instanceof OperationsApiError ? `${err.status}: ${message}` : message;
}

/**
 * Starts one operation per cluster, all at once: each cluster decides alone (its
 * own authorisation and node locks), so one that refuses (403, 409 busy nodes, a
 * network error) never keeps the others from running. `onOutcome` hears each
 * cluster as it answers; the promise resolves with every outcome, in request order.
 */
export function startPerCluster(
  api: OperationCreator,
  requests: readonly ClusterRequest[],
  onOutcome: (outcome: ClusterStartOutcome) => void = () => undefined,
): Promise<ClusterStartOutcome[]> {
  return Promise.all(
    requests.map(async ({ cluster, request }): Promise<ClusterStartOutcome> => {
      let outcome: ClusterStartOutcome;
      try {
        outcome = { cluster, operation: (await api.create(cluster, request)).operation };
      } catch (err) {
        outcome = { cluster, reason: refusalReason(err) };
      }
      onOutcome(outcome);
      return outcome;
    }),
  );
}
