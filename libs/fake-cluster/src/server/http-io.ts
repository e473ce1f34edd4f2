import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiStatusError, statusErrors } from '../api/api-status.js';
import type { JsonValue } from '../api/kube-object.js';

/** Largest request body accepted (the API server's limit is 3 MiB for most objects). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

/** Reads the whole request body; more than {@link MAX_BODY_BYTES} is a 400. */
export async function readBodyBytes(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES) throw statusErrors.badRequest('the request body is too large');
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

/** Reads the whole request body as UTF-8 text. */
export async function readBody(req: IncomingMessage): Promise<string> {
  return (await readBodyBytes(req)).toString('utf8');
}

/** Parses a JSON body; an empty or malformed one is a 400 BadRequest Status. */
export function parseJsonBody(text: string, what = 'body'): JsonValue {
  if (text.trim() === '') throw statusErrors.badRequest(`the ${what} of the request is empty`);
  try {
    return JSON.parse(text) as JsonValue;
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw statusErrors.badRequest(`the ${what} of the request was in an unknown format: ${detail}`);
  }
}

/** Writes `body` as JSON with `code` (headers and body in one go). */
export function sendJson(
  res: ServerResponse,
  code: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(code, {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-cache, private',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Writes an error as its full Status, with Retry-After when the Status carries one. */
export function sendStatusError(res: ServerResponse, err: ApiStatusError): void {
  const details = err.status['details'];
  const retry =
    details && typeof details === 'object' && !Array.isArray(details)
      ? details['retryAfterSeconds']
      : undefined;
  sendJson(res, err.code, err.status, typeof retry === 'number' ? { 'Retry-After': String(retry) } : {});
}

/** True for an ApiStatusError (re-exported for the router's catch). */
export function isApiStatusError(err: unknown): err is ApiStatusError {
  return err instanceof ApiStatusError;
}
