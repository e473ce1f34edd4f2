/**
 * A sealed value that cannot be opened: not knm's format, sealed under a key the ring
 * no longer holds, tampered with, or moved to another record (its context differs).
 */
export class SealedSecretError extends Error {
  override readonly name = 'SealedSecretError';
}
