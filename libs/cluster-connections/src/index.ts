export * from './cluster-connection-store.js';
