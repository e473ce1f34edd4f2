import { z } from 'zod';
import { AllowedClustersSchema, RoleSchema, SubjectSchema, type Keyspace } from '@knm/contracts';
import type { RedisClient } from '@knm/node-store';
import { SessionCipher } from './session-cipher.js';

/** What a dashboard session keeps, sealed (see {@link SessionCipher}). */
export const SessionRecordSchema = z.object({
  /** The person, from the username claim. */
  sub: SubjectSchema,
  /** The provider's subject, which renewals must keep. */
  providerSub: z.string(),
  groups: z.array(z.string()),
  role: RoleSchema,
  clusters: AllowedClustersSchema,
  /** The provider's refresh token, when it issued one. */
  refreshToken: z.string().optional(),
  /** When the provider's tokens expire and the session must be renewed (ms since the epoch). */
  renewAt: z.number(),
  /** When the sign-in ends whatever happens (ms since the epoch). */
  expiresAt: z.number(),
});
export type SessionRecord = z.infer<typeof SessionRecordSchema>;

/** A sign-in in progress: what the callback must check, or why it failed. */
export const LoginRecordSchema = z.union([
  z.object({
    state: z.string(),
    nonce: z.string(),
    codeVerifier: z.string(),
    redirectUri: z.string(),
  }),
  z.object({ error: z.string() }),
]);
export type LoginRecord = z.infer<typeof LoginRecordSchema>;

/** How long a sign-in at the provider may take, and how long its failure is kept to be shown. */
export const LOGIN_TTL_SECONDS = 600;

/**
 * Sessions and sign-ins in progress in Redis, each under the hash of its cookie's id
 * and sealed with a key derived from that id: Redis never holds a usable session id
 * nor a readable token.
 */
export class SessionStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keyspace: Keyspace,
  ) {}

  /** Stores a new session; returns its id (the cookie's value). */
  async create(record: SessionRecord): Promise<string> {
    const id = SessionCipher.newId();
    await this.save(id, record);
    return id;
  }

  /** Replaces the session `id` (after a renewal), keeping its absolute end. */
  async save(id: string, record: SessionRecord): Promise<void> {
    const ttlMs = record.expiresAt - Date.now();
    if (ttlMs <= 0) return this.delete(id);
    await this.redis.set(
      this.keyspace.session(SessionCipher.lookup(id)),
      SessionCipher.seal(id, JSON.stringify(record)),
      'PX',
      ttlMs,
    );
  }

  /** The session `id`, or undefined when it is unknown, ended or not readable with this id. */
  async get(id: string): Promise<SessionRecord | undefined> {
    return this.read(this.keyspace.session(SessionCipher.lookup(id)), id, SessionRecordSchema);
  }

  async delete(id: string): Promise<void> {
    await this.redis.del(this.keyspace.session(SessionCipher.lookup(id)));
  }

  /**
   * Takes the renewal of session `id` for `ms` (one replica renews; the others wait for
   * it: a refresh token used twice makes a provider that rotates them revoke the grant).
   */
  async lockRenewal(id: string, ms: number): Promise<boolean> {
    const key = `${this.keyspace.session(SessionCipher.lookup(id))}:renewing`;
    return (await this.redis.set(key, '1', 'PX', ms, 'NX')) === 'OK';
  }

  async unlockRenewal(id: string): Promise<void> {
    await this.redis.del(`${this.keyspace.session(SessionCipher.lookup(id))}:renewing`);
  }

  /** Stores a sign-in in progress under `id` (the login cookie's value). */
  async saveLogin(id: string, record: LoginRecord): Promise<void> {
    await this.redis.set(
      this.keyspace.oidcLogin(SessionCipher.lookup(id)),
      SessionCipher.seal(id, JSON.stringify(record)),
      'EX',
      LOGIN_TTL_SECONDS,
    );
  }

  async getLogin(id: string): Promise<LoginRecord | undefined> {
    return this.read(this.keyspace.oidcLogin(SessionCipher.lookup(id)), id, LoginRecordSchema);
  }

  async deleteLogin(id: string): Promise<void> {
    await this.redis.del(this.keyspace.oidcLogin(SessionCipher.lookup(id)));
  }

  private async read<T>(key: string, id: string, schema: z.ZodType<T>): Promise<T | undefined> {
    const sealed = await this.redis.get(key);
    if (sealed === null) return undefined;
    const plaintext = SessionCipher.open(id, sealed);
    if (plaintext === undefined) return undefined;
    const parsed = schema.safeParse(JSON.parse(plaintext));
    return parsed.success ? parsed.data : undefined;
  }
}
