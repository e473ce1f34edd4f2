export * from './wait-for.js';
export * from './free-port.js';
export * from './test-redis.js';
export * from './processes.js';
export * from './web-build.js';
export * from './redis-cluster.js';
export * from './watcher-process.js';
export * from './client-fleet/index.js';
