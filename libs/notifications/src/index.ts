export * from './webhook-sink-store.js';
export * from './incident-message.js';
export * from './webhook-post.js';
export * from './delivery-job.js';
export * from './delivery-job-options.js';
export * from './delivery-plan.js';
export * from './notification-dispatcher.js';
export * from './webhook-delivery-worker.js';
