import { createHash } from 'node:crypto';
import { SecretsKeyError } from './secrets-key-error.js';

/** One AES-256 key and its id (the first 8 bytes of its SHA-256, hex): the id is stored beside what it sealed. */
export interface SecretKey {
  readonly id: string;
  readonly bytes: Buffer;
}

const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;
const HEX = /^[0-9a-fA-F]{64}$/;

/**
 * Reads a 32-byte key written as 64 hex digits or base64 / base64url (what
 * `openssl rand -base64 32` prints). A passphrase is refused rather than stretched:
 * a key that is guessable would make sealing theatre. `source` names where the key
 * came from, for the error; the key itself never reaches a message.
 */
export function parseSecretKey(text: string, source: string): SecretKey {
  const trimmed = text.trim();
  let bytes: Buffer | undefined;
  if (HEX.test(trimmed)) bytes = Buffer.from(trimmed, 'hex');
  else if (BASE64.test(trimmed)) bytes = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (bytes?.length !== 32) {
    throw new SecretsKeyError(
      `${source} must be 32 random bytes, as 64 hex digits or base64 (\`openssl rand -base64 32\`); ` +
        `it holds ${trimmed.length} characters that are not`,
    );
  }
  return { id: createHash('sha256').update(bytes).digest('hex').slice(0, 16), bytes };
}
