import { pino, type Logger } from 'pino';

/**
 * Log paths pino replaces with `[redacted]`: credentials must never reach the log even
 * when a request, a header set or a configuration object is logged whole at debug or
 * trace level.
 */
export const REDACTED_LOG_PATHS: readonly string[] = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'headers.cookie',
  '*.headers.cookie',
  'token',
  '*.token',
  'auth.token',
  '*.auth.token',
  'password',
  '*.password',
  'jwtSecret',
  '*.jwtSecret',
  'secret',
  '*.secret',
  'kubeconfig',
  '*.kubeconfig',
  'body',
  '*.body',
];

/** The gateway's pino logger on stdout at `level`, with {@link REDACTED_LOG_PATHS} redacted. */
export function createGatewayLogger(level: string): Logger {
  return pino({
    level,
    base: { app: 'gateway' },
    redact: { paths: [...REDACTED_LOG_PATHS], censor: '[redacted]' },
  });
}

/**
 * Query parameters whose values never reach a log line (`code`: the authorization code
 * an identity provider sends to the sign-in callback).
 */
const SECRET_QUERY_PARAMS = /^(access_token|token|auth|password|secret|key|jwt|code)$/i;

/**
 * A request URL fit for a log line: the value of every query parameter that may hold
 * a credential (`access_token`, `token`, ...) is replaced by `[redacted]`, because the
 * gateway refuses such URLs but still logs the refusal.
 */
export function loggableUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name);
      } catch {
        // A malformed name is logged as sent.
      }
      return eq >= 0 && SECRET_QUERY_PARAMS.test(decoded) ? `${name}=[redacted]` : pair;
    });
  return `${url.slice(0, q)}?${params.join('&')}`;
}
