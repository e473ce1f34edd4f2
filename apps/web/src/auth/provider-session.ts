import { z } from 'zod';
import { AllowedClustersSchema, RoleSchema } from '@knm/contracts';
import type { SessionClaims } from './session-token.js';

/** Where the dashboard starts a sign-in through the identity provider (the gateway redirects). */
export const PROVIDER_LOGIN_PATH = '/api/v1/auth/login';

const SessionAnswerSchema = z.union([
  z.object({
    signedIn: z.literal(true),
    sub: z.string(),
    role: RoleSchema,
    clusters: AllowedClustersSchema,
  }),
  z.object({ signedIn: z.literal(false), oidc: z.boolean(), error: z.string().optional() }),
]);

/** What the gateway says about this browser's session with the identity provider. */
export type ProviderSessionStatus =
  { signedIn: true; claims: SessionClaims } | { signedIn: false; offered: boolean; error?: string };

/**
 * The dashboard's side of signing in through the identity provider. The browser
 * holds only the gateway's HttpOnly session cookie, which no script can read: the
 * dashboard asks the gateway who it is, and the provider's tokens never reach the page.
 */
export class ProviderSession {
  constructor(
    private readonly baseUrl: string,
    private readonly fetchImpl: typeof fetch = (...args) => fetch(...args),
  ) {}

  /** Who this browser is signed in as, or whether sign-in through the provider is offered and why it failed. */
  async status(): Promise<ProviderSessionStatus> {
    const response = await this.fetchImpl(`${this.baseUrl}/api/v1/auth/session`, {
      headers: { accept: 'application/json' },
      credentials: 'same-origin',
    });
    const answer = SessionAnswerSchema.safeParse(await response.json().catch(() => undefined));
    if (!response.ok || !answer.success) return { signedIn: false, offered: false };
    if (answer.data.signedIn) {
      const { sub, role, clusters } = answer.data;
      return { signedIn: true, claims: { sub, role, clusters } };
    }
    return {
      signedIn: false,
      offered: answer.data.oidc,
      ...(answer.data.error !== undefined ? { error: answer.data.error } : {}),
    };
  }

  /** Ends the session at the gateway; returns the provider's sign-out page to visit, if it has one. */
  async signOut(): Promise<string | undefined> {
    const response = await this.fetchImpl(`${this.baseUrl}/api/v1/auth/logout`, {
      method: 'POST',
      headers: { accept: 'application/json' },
      credentials: 'same-origin',
    });
    const body = z
      .object({ endSessionUrl: z.string().url().optional() })
      .safeParse(await response.json().catch(() => undefined));
    return response.ok && body.success ? body.data.endSessionUrl : undefined;
  }
}
