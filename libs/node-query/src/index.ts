export * from './query-errors.js';
export * from './taint-filter.js';
export * from './node-sort.js';
export * from './continue-token.js';
export * from './query-nodes.js';
export * from './resource-filter.js';
export * from './resource-rollup.js';
