export * from './cluster-connection-store.js';
export * from './connection-test.js';
export * from './exec-allowlist.js';
export * from './kubeconfig-rejected-error.js';
export * from './uploaded-kubeconfig.js';
export * from './cluster-keys-purge.js';
export * from './registered-clusters.js';
