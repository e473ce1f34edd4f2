/**
 * The gateway's limits (all shared by every replica through Redis where they count).
 * Environment variables in brackets; 0 turns a rate limit off.
 */
export interface SecurityConfig {
  /**
   * Which peers may set the client address through `X-Forwarded-For`
   * (`KNM_TRUST_PROXY`, see `TrustProxy`): `none`, a hop count, or a comma list of
   * addresses, CIDR ranges, `loopback`, `linklocal`, `uniquelocal`. Default `none`:
   * trusting even loopback would let any local process forge its address (escape the
   * failed-auth lockout or lock another address out); a deployment behind a proxy says
   * so (`npm start` sets `loopback` for its own proxy).
   */
  trustProxy: string;
  /** Largest HTTP request body in bytes (`KNM_HTTP_BODY_LIMIT`); larger is 413. Default 256 KiB. */
  httpBodyLimit: number;
  /** Largest Socket.IO message in bytes (`KNM_WS_MAX_MESSAGE_BYTES`); larger closes the socket. Default 64 KiB. */
  wsMaxMessageBytes: number;
  /** Deepest nesting of a JSON body (`KNM_JSON_MAX_DEPTH`); deeper is 400. Default 32. */
  jsonMaxDepth: number;
  /**
   * Failed authentications (REST 401s and refused Socket.IO handshakes) allowed per
   * client address per window (`KNM_AUTH_FAILURE_LIMIT`); then every API request and
   * handshake from that address is 429 until the window ends. Default 20.
   */
  authFailureLimit: number;
  /** Window of the auth-failure limit in ms (`KNM_AUTH_FAILURE_WINDOW_MS`). Default 60,000. */
  authFailureWindowMs: number;
  /** Operation requests (`POST .../operations`, dry runs included, and cancels) per token subject per window (`KNM_OPS_RATE_LIMIT`). Default 30. */
  opsRateLimit: number;
  /** Window of the operations limit in ms (`KNM_OPS_RATE_WINDOW_MS`). Default 60,000. */
  opsRateWindowMs: number;
  /**
   * Realtime `subscribe`s per token subject per window, over all its sockets and every
   * replica (`KNM_SUBSCRIBE_RATE_LIMIT`; each costs a folded batch). Default 200.
   */
  subscribeRateLimit: number;
  /** Window of the subscribe limit in ms (`KNM_SUBSCRIBE_RATE_WINDOW_MS`). Default 10,000. */
  subscribeRateWindowMs: number;
}

/** The defaults of {@link SecurityConfig}. */
export const DEFAULT_SECURITY: Readonly<SecurityConfig> = {
  trustProxy: 'none',
  httpBodyLimit: 256 * 1024,
  wsMaxMessageBytes: 64 * 1024,
  jsonMaxDepth: 32,
  authFailureLimit: 20,
  authFailureWindowMs: 60_000,
  opsRateLimit: 30,
  opsRateWindowMs: 60_000,
  subscribeRateLimit: 200,
  subscribeRateWindowMs: 10_000,
};

/** The environment variable of each {@link SecurityConfig} field. */
export const SECURITY_ENV: Readonly<Record<keyof SecurityConfig, string>> = {
  trustProxy: 'KNM_TRUST_PROXY',
  httpBodyLimit: 'KNM_HTTP_BODY_LIMIT',
  wsMaxMessageBytes: 'KNM_WS_MAX_MESSAGE_BYTES',
  jsonMaxDepth: 'KNM_JSON_MAX_DEPTH',
  authFailureLimit: 'KNM_AUTH_FAILURE_LIMIT',
  authFailureWindowMs: 'KNM_AUTH_FAILURE_WINDOW_MS',
  opsRateLimit: 'KNM_OPS_RATE_LIMIT',
  opsRateWindowMs: 'KNM_OPS_RATE_WINDOW_MS',
  subscribeRateLimit: 'KNM_SUBSCRIBE_RATE_LIMIT',
  subscribeRateWindowMs: 'KNM_SUBSCRIBE_RATE_WINDOW_MS',
};
