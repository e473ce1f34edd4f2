import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';

/**
 * The gateway's helmet settings: helmet's defaults (nosniff, frame options, HSTS,
 * Referrer-Policy, ...) with a CSP that lets the dashboard load its own scripts,
 * styles (inline ones too) and `data:` images, nothing from elsewhere.
 */
export const HELMET_OPTIONS: Readonly<HelmetOptions> = {
  contentSecurityPolicy: {
    directives: {
      defaultSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      scriptSrc: ["'self'"],
    },
  },
};

/**
 * The headers helmet sets on every answer with `options`, computed once by running
 * helmet's middleware over a response that records them. Every directive here is a
 * constant (no per-request nonce, no function of the request), so each answer's
 * headers are these; `@fastify/helmet` built helmet's middleware again for every
 * request (parsing the CSP directives each time), about a tenth of a gateway's CPU
 * per cached REST answer.
 */
export function securityHeaders(options: Readonly<HelmetOptions>): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
      return recorder;
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  let failure: unknown;
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, (err?: unknown) => {
    failure = err;
  });
  if (failure !== undefined) throw failure instanceof Error ? failure : new Error(String(failure));
  return Object.freeze(headers);
}

/**
 * Sets {@link securityHeaders} of `options` on every answer of `fastify` (API,
 * dashboard, errors, 404s, the limiter's 429s): an `onRequest` hook, registered
 * before the limiter's so a refused request carries them too. Handlers may still
 * override one (the dashboard's own `Cache-Control` is not among them).
 */
export function installSecurityHeaders(fastify: FastifyInstance, options: Readonly<HelmetOptions>): void {
  const headers = securityHeaders(options);
  fastify.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers);
    done();
  });
}
