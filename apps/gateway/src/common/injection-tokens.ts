/** Nest injection tokens of the gateway (every constructor parameter names one: no decorator metadata). */
export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');
export const LOGGER = Symbol('LOGGER');
export const REDIS = Symbol('REDIS');
export const REDIS_SUBSCRIBER = Symbol('REDIS_SUBSCRIBER');
export const KEYSPACE = Symbol('KEYSPACE');
export const NODE_STORE_READER = Symbol('NODE_STORE_READER');
export const HISTORY_READER = Symbol('HISTORY_READER');
export const TOKEN_VERIFIER = Symbol('TOKEN_VERIFIER');
export const GATEWAY_ID = Symbol('GATEWAY_ID');
export const NODE_PODS_CLIENT = Symbol('NODE_PODS_CLIENT');
export const WEBHOOK_SINKS = Symbol('WEBHOOK_SINKS');
