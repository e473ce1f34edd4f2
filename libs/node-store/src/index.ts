export * from './errors.js';
export * from './envelope-json.js';
export * from './lua-script.js';
export * from './node-change.js';
export * from './leader-lease.js';
export * from './node-store-writer.js';
export * from './node-store-reader.js';
export * from './change-subscriber.js';
