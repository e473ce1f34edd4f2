/** DI token: the auth-failure `RateLimiter` (scope `auth`, per client address). */
export const AUTH_FAILURE_LIMITER = Symbol('AUTH_FAILURE_LIMITER');
/** DI token: the operations `RateLimiter` (scope `ops`, per token subject). */
export const OPS_RATE_LIMITER = Symbol('OPS_RATE_LIMITER');
/** DI token: the realtime subscribe `RateLimiter` (scope `subscribe`, per token subject). */
export const SUBSCRIBE_RATE_LIMITER = Symbol('SUBSCRIBE_RATE_LIMITER');
/** DI token: the `TrustProxy` that finds a client's address. */
export const TRUST_PROXY = Symbol('TRUST_PROXY');
