import { statusErrors, type ApiStatusError, type StatusCause } from '../api/api-status.js';
import type { ListOptions } from './list-options.js';

function forbidden(field: string, message: string): StatusCause {
  return { field, reason: 'FieldValueForbidden', message: `Forbidden: ${message}` };
}

function notSupported(field: string, value: string, supported: readonly string[]): StatusCause {
  return {
    field,
    reason: 'FieldValueNotSupported',
    message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${supported.map((v) => JSON.stringify(v)).join(', ')}`,
  };
}

function listCauses(options: ListOptions): StatusCause[] {
  const causes: StatusCause[] = [];
  const match = options.resourceVersionMatch;
  if (match !== undefined) {
    if (options.resourceVersion === undefined || options.resourceVersion === '') {
      causes.push(
        forbidden(
          'resourceVersionMatch',
          'resourceVersionMatch is forbidden unless resourceVersion is provided',
        ),
      );
    }
    if (options.continueToken !== undefined) {
      causes.push(
        forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided'),
      );
    }
    if (match !== 'Exact' && match !== 'NotOlderThan') {
      causes.push(notSupported('resourceVersionMatch', match, ['Exact', 'NotOlderThan', '']));
    }
    if (match === 'Exact' && options.resourceVersion === '0') {
      causes.push(
        forbidden(
          'resourceVersionMatch',
          'resourceVersionMatch "exact" is forbidden for resourceVersion "0"',
        ),
      );
    }
  }
  if (options.sendInitialEvents !== undefined) {
    causes.push(forbidden('sendInitialEvents', 'sendInitialEvents is forbidden for list'));
  }
  return causes;
}

function watchCauses(options: ListOptions): StatusCause[] {
  const causes: StatusCause[] = [];
  const match = options.resourceVersionMatch;
  if (options.sendInitialEvents !== undefined) {
    if (match !== 'NotOlderThan') {
      causes.push(
        forbidden(
          'resourceVersionMatch',
          'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan',
        ),
      );
    }
    if (!options.allowWatchBookmarks) {
      causes.push(
        forbidden('allowWatchBookmarks', 'sendInitialEvents requires setting allowWatchBookmarks to true'),
      );
    }
  }
  if (match !== undefined) {
    if (options.sendInitialEvents === undefined) {
      causes.push(
        forbidden(
          'resourceVersionMatch',
          'resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided',
        ),
      );
    }
    if (match !== 'NotOlderThan') causes.push(notSupported('resourceVersionMatch', match, ['NotOlderThan']));
    if (options.continueToken !== undefined) {
      causes.push(
        forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided'),
      );
    }
  }
  return causes;
}

/**
 * Checks the combinations of list and watch parameters as the API server's
 * `ValidateListOptions` does, before anything is read: every problem found is a
 * cause of one 422 Invalid `ListOptions.meta.k8s.io ""` (clients see the same
 * message and causes as from a real server).
 */
export function validateListOptions(options: ListOptions): void {
  const causes = options.watch ? watchCauses(options) : listCauses(options);
  if (causes.length > 0) throw listOptionsInvalid(causes);
}

function listOptionsInvalid(causes: StatusCause[]): ApiStatusError {
  return statusErrors.invalid('ListOptions', '', causes, 'meta.k8s.io');
}
