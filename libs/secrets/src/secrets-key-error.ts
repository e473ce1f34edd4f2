/** A secrets key that is missing or cannot be used; the message says what to fix (never the key). */
export class SecretsKeyError extends Error {
  override readonly name = 'SecretsKeyError';
}
