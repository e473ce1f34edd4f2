export * from './auth-errors.js';
export * from './duration.js';
export * from './sign-token.js';
export * from './token-verifier.js';
export * from './bearer-token.js';
export * from './cluster-access.js';
export * from './role-map.js';
