import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SealedSecretError, SecretBox, SecretsKeyError } from './index.js';

const key = (): string => randomBytes(32).toString('base64');

describe('SecretBox', () => {
  it('opens what it sealed, and the sealed form holds nothing of the plaintext', () => {
    const box = SecretBox.fromEnv({ KNM_SECRETS_KEY: key() });
    const secret = 'token: sha256~very-secret-bearer-token';
    const sealed = box.seal(secret, 'cluster:prod');
    expect(sealed).toMatch(/^v1\.[0-9a-f]{16}\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(sealed).not.toContain('secret');
    expect(Buffer.from(sealed.split('.')[3] ?? '', 'base64url').toString('utf8')).not.toContain('secret');
    expect(box.open(sealed, 'cluster:prod')).toBe(secret);
    expect(box.seal(secret, 'cluster:prod')).not.toBe(sealed); // a fresh IV each time
  });

  it('refuses a value moved to another record, tampered with, or in another format', () => {
    const box = SecretBox.fromEnv({ KNM_SECRETS_KEY: key() });
    const sealed = box.seal('kubeconfig', 'cluster:a');
    expect(() => box.open(sealed, 'cluster:b')).toThrow(SealedSecretError);
    const parts = sealed.split('.');
    const body = Buffer.from(parts[3] ?? '', 'base64url');
    body[0] = (body[0] ?? 0) ^ 1;
    parts[3] = body.toString('base64url');
    expect(() => box.open(parts.join('.'), 'cluster:a')).toThrow(/does not authenticate/);
    expect(() => box.open('plain text', 'cluster:a')).toThrow(/not a sealed value/);
  });

  it('rotates: the previous key still opens, new seals use the current key, needsReseal says which to redo', () => {
    const oldKey = key();
    const before = SecretBox.fromEnv({ KNM_SECRETS_KEY: oldKey });
    const sealedOld = before.seal('creds', 'ctx');
    const after = SecretBox.fromEnv({ KNM_SECRETS_KEY: key(), KNM_SECRETS_KEYS_PREVIOUS: ` ${oldKey} ,` });
    expect(after.open(sealedOld, 'ctx')).toBe('creds');
    expect(after.needsReseal(sealedOld)).toBe(true);
    const resealed = after.seal('creds', 'ctx');
    expect(after.needsReseal(resealed)).toBe(false);
    expect(resealed.split('.')[1]).toBe(after.currentKeyId);
    const dropped = SecretBox.fromEnv({ KNM_SECRETS_KEY: key() });
    expect(() => dropped.open(sealedOld, 'ctx')).toThrow(
      /neither KNM_SECRETS_KEY nor in KNM_SECRETS_KEYS_PREVIOUS/,
    );
  });

  it('takes hex or base64 keys and refuses anything else without echoing it', () => {
    const hex = randomBytes(32).toString('hex');
    expect(SecretBox.fromEnv({ KNM_SECRETS_KEY: hex }).currentKeyId).toMatch(/^[0-9a-f]{16}$/);
    expect(() => SecretBox.fromEnv({})).toThrow(SecretsKeyError);
    const passphrase = 'correct horse battery staple';
    let message = '';
    try {
      SecretBox.fromEnv({ KNM_SECRETS_KEY: passphrase });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/32 random bytes/);
    expect(message).not.toContain('horse');
    expect(() => SecretBox.fromEnv({ KNM_SECRETS_KEY: key(), KNM_SECRETS_KEYS_PREVIOUS: 'short' })).toThrow(
      /KNM_SECRETS_KEYS_PREVIOUS \(entry 1\)/,
    );
  });
});
