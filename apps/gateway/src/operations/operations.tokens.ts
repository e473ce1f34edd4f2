/** Nest injection tokens of the operations feature. */
export const OPERATIONS_REDIS = Symbol('OPERATIONS_REDIS');
export const OPERATION_STORE = Symbol('OPERATION_STORE');
export const OPERATION_QUEUES = Symbol('OPERATION_QUEUES');
export const OPERATION_EVENTS = Symbol('OPERATION_EVENTS');
export const AUDIT_LOG = Symbol('AUDIT_LOG');
