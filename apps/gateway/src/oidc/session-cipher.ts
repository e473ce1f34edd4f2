import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Seals a session's data with a key derived from its id, the cookie's value. Redis
 * holds only the id's hash (the lookup key) and the sealed data, so whoever reads
 * Redis can neither use a session nor read the refresh token inside it; only the
 * browser holding the cookie can.
 */
export class SessionCipher {
  /** A new random session id (256 bits, base64url). */
  static newId(): string {
    return randomBytes(32).toString('base64url');
  }

  /** The Redis lookup key part of an id: a hash, never the id itself. */
  static lookup(id: string): string {
    return createHash('sha256').update(`knm-session-lookup\0${id}`).digest('base64url');
  }

  /** AES-256-GCM under HKDF(id), bound to the lookup key: `iv.tag.ciphertext`, base64url. */
  static seal(id: string, plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key(id), iv);
    cipher.setAAD(Buffer.from(SessionCipher.lookup(id)));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [iv, cipher.getAuthTag(), body].map((b) => b.toString('base64url')).join('.');
  }

  /** The plaintext of `sealed`, or undefined when it was not sealed for `id` or was altered. */
  static open(id: string, sealed: string): string | undefined {
    const [iv, tag, body] = sealed.split('.').map((p) => Buffer.from(p, 'base64url'));
    if (!iv || !tag || !body || iv.length !== 12 || tag.length !== 16) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key(id), iv);
      decipher.setAAD(Buffer.from(SessionCipher.lookup(id)));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }
}

function key(id: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(id), 'knm', 'knm session v1', 32));
}
