export * from './typed-emitter.js';
export * from './backoff.js';
export * from './cluster-view.js';
export * from './rest-client.js';
export * from './cluster-watch.js';
export * from './knm-client.js';
