import { computed, ref, type ComputedRef, type Ref } from 'vue';
import { roleAtLeast } from '@knm/contracts';
import type { KeyValueStorage } from '../storage/dashboard-storage.js';
import { SessionToken, type SessionClaims } from './session-token.js';

/** What the session tells the rest of the dashboard. */
export interface SessionEvents {
  /** A usable token was stored: open the connections. */
  signedIn(): void;
  /** The token is gone: close every connection and clear the view. */
  signedOut(): void;
}

/**
 * Who is signed in: the token (kept in the tab's session storage), the claims read
 * from it (they only drive the UI; the gateway verifies every request), and the
 * message the sign-in form shows when a token cannot be used.
 */
export class SessionStore {
  readonly token: SessionToken;
  readonly claims: Ref<SessionClaims | undefined> = ref();
  readonly signInError: Ref<string | undefined> = ref();
  /** The gateway offers sign-in through an identity provider (the sign-in form shows its button). */
  readonly providerOffered: Ref<boolean> = ref(false);
  /** Signed in through the identity provider (a session cookie) rather than with a knm token. */
  readonly viaProvider: Ref<boolean> = ref(false);
  /** Operators and admins see the operation controls (the gateway enforces it anyway). */
  readonly canOperate: ComputedRef<boolean> = computed(
    () => !!this.claims.value && roleAtLeast(this.claims.value.role, 'operator'),
  );
  /** Admins see the cluster registry's controls (add, remove; the gateway enforces it anyway). */
  readonly isAdmin: ComputedRef<boolean> = computed(
    () => !!this.claims.value && roleAtLeast(this.claims.value.role, 'admin'),
  );

  constructor(
    storage: KeyValueStorage,
    private readonly events: SessionEvents,
  ) {
    this.token = new SessionToken(storage);
  }

  /**
   * Adopts a `#token=` fragment of `hash` (an unusable one becomes the sign-in
   * error). Returns the fragment to leave in the address bar, or undefined when
   * `hash` carries no token and the address can stay as it is.
   */
  adoptFragment(hash: string): string | undefined {
    const adopted = this.token.adoptFragment(hash);
    if (!adopted) return undefined;
    if (adopted.error) this.signInError.value = adopted.error;
    return adopted.rest;
  }

  /** Signs in with the stored token, if there is one (a reload keeps the tab signed in). */
  resume(): void {
    const token = this.token.get();
    if (token) this.signIn(token);
  }

  /** Signs in with `token` (checked to read as a knm token; the gateway verifies it). */
  signIn(token: string): void {
    try {
      const claims = this.token.set(token);
      if (claims.expiresAt !== undefined && claims.expiresAt <= Date.now()) {
        this.token.clear();
        this.signInError.value = 'this token has expired: create a new one (npm run token)';
        return;
      }
      this.claims.value = claims;
      this.signInError.value = undefined;
    } catch (err) {
      this.signInError.value = err instanceof Error ? err.message : String(err);
      return;
    }
    this.events.signedIn();
  }

  /** Signed in through the identity provider: the gateway's session cookie authenticates, no token is kept. */
  signInWithProvider(claims: SessionClaims): void {
    this.viaProvider.value = true;
    this.providerOffered.value = true;
    this.claims.value = claims;
    this.signInError.value = undefined;
    this.events.signedIn();
  }

  /** Signs out: forgets the token, closes every connection; `message` is shown on the sign-in form. */
  signOut(message?: string): void {
    this.events.signedOut();
    this.token.clear();
    this.viaProvider.value = false;
    this.claims.value = undefined;
    this.signInError.value = message;
  }
}
