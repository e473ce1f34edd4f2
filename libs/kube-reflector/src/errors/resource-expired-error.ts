import { ApiError } from './api-error.js';

/**
 * 410 Gone: the resourceVersion a watch (or a list's `continue` token) asked for is
 * older than what the server still keeps. The only way forward is a fresh list.
 * Raised for an HTTP 410 answer and for a watch `ERROR` event carrying code 410.
 */
export class ResourceExpiredError extends ApiError {
  override name = 'ResourceExpiredError';

  constructor(message: string) {
    super(410, message, 'Expired');
  }
}
