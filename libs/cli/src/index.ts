export * from './command-line-error.js';
export * from './read-flags.js';
export * from './parse-integer.js';
