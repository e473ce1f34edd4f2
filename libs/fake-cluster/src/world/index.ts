/** The deterministic simulated world: seeded randomness, object factories and the world generator. */
export * from './rng.js';
export * from './node-factory.js';
export * from './pod-factory.js';
export * from './pod-shapes.js';
export * from './workload-factory.js';
export * from './generate-world.js';
