import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { SealedSecretError } from './sealed-secret-error.js';
import { parseSecretKey, type SecretKey } from './secret-key.js';
import { SecretsKeyError } from './secrets-key-error.js';

/** The environment variables a {@link SecretBox} reads. */
export interface SecretsEnv {
  /** The current key: every new seal uses it. */
  readonly KNM_SECRETS_KEY?: string | undefined;
  /** Earlier keys, comma-separated: still opened, so a rotation needs no downtime. */
  readonly KNM_SECRETS_KEYS_PREVIOUS?: string | undefined;
}

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Seals credentials for storage (AES-256-GCM, a fresh 96-bit IV each time) under the
 * current key of a ring, and opens what any key of the ring sealed. The sealed form,
 * `v1.<keyId>.<iv>.<ciphertext>.<tag>` (base64url parts), names its key, so a
 * rotation is: make the new key current, list the old one in
 * `KNM_SECRETS_KEYS_PREVIOUS`, re-seal what {@link needsReseal} reports, then drop
 * the old key.
 *
 * Every seal is bound to a `context` (authenticated, not stored): a sealed value
 * copied to another record (another cluster's entry, say) does not open there.
 */
export class SecretBox {
  private readonly byId: ReadonlyMap<string, SecretKey>;

  constructor(
    private readonly current: SecretKey,
    previous: readonly SecretKey[] = [],
  ) {
    this.byId = new Map([...previous, current].map((key) => [key.id, key]));
  }

  /** The ring from {@link SecretsEnv}; a missing or malformed key throws {@link SecretsKeyError}. */
  static fromEnv(env: SecretsEnv): SecretBox {
    if (!env.KNM_SECRETS_KEY?.trim()) {
      throw new SecretsKeyError(
        'KNM_SECRETS_KEY is not set: credentials are stored encrypted and need a 32-byte key (`openssl rand -base64 32`)',
      );
    }
    const current = parseSecretKey(env.KNM_SECRETS_KEY, 'KNM_SECRETS_KEY');
    const previous = (env.KNM_SECRETS_KEYS_PREVIOUS ?? '')
      .split(',')
      .map((text) => text.trim())
      .filter((text) => text !== '')
      .map((text, i) => parseSecretKey(text, `KNM_SECRETS_KEYS_PREVIOUS (entry ${i + 1})`));
    return new SecretBox(current, previous);
  }

  /** The id of the key new seals use (safe to log: it reveals nothing of the key). */
  get currentKeyId(): string {
    return this.current.id;
  }

  seal(plaintext: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current.bytes, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, this.current.id, b64(iv), b64(ciphertext), b64(cipher.getAuthTag())].join('.');
  }

  open(sealed: string, context: string): string {
    const [version, keyId, iv, ciphertext, tag, ...rest] = sealed.split('.');
    if (version !== VERSION || !keyId || !iv || ciphertext === undefined || !tag || rest.length > 0) {
      throw new SealedSecretError('not a sealed value (expected v1.<keyId>.<iv>.<ciphertext>.<tag>)');
    }
    const key = this.byId.get(keyId);
    if (!key) {
      throw new SealedSecretError(
        `sealed under key ${keyId}, which is neither KNM_SECRETS_KEY nor in KNM_SECRETS_KEYS_PREVIOUS`,
      );
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.bytes, fromB64(iv), { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(fromB64(tag));
      return Buffer.concat([decipher.update(fromB64(ciphertext)), decipher.final()]).toString('utf8');
    } catch {
      throw new SealedSecretError(`sealed value does not authenticate under key ${keyId} for this record`);
    }
  }

  /** True when `sealed` was sealed under an earlier key (re-seal it to finish a rotation). */
  needsReseal(sealed: string): boolean {
    return sealed.split('.', 3)[1] !== this.current.id;
  }
}

const b64 = (bytes: Buffer): string => bytes.toString('base64url');
const fromB64 = (text: string): Buffer => Buffer.from(text, 'base64url');
