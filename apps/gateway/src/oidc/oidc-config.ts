import { DurationParseError, parseDurationSeconds, RoleMap, RoleMapParseError } from '@knm/auth';

/** Sign-in through an OpenID Provider (authorization code + PKCE), read from `KNM_OIDC_*`. */
export interface OidcConfig {
  /** `KNM_OIDC_ISSUER`: the provider's issuer URL; its metadata is discovered from it. */
  issuer: string;
  /** `KNM_OIDC_CLIENT_ID`. */
  clientId: string;
  /** `KNM_OIDC_CLIENT_SECRET`; none makes knm a public client (PKCE only). */
  clientSecret?: string;
  /**
   * `KNM_OIDC_REDIRECT_URI`: the callback registered with the provider. Default the
   * request's own origin + `/api/v1/auth/callback`.
   */
  redirectUri?: string;
  /** `KNM_OIDC_SCOPES` (space or comma separated). Default `openid profile email offline_access`. */
  scopes: string[];
  /** `KNM_OIDC_USERNAME_CLAIM`: the claim naming the person (audit, impersonation). Default `sub`. */
  usernameClaim: string;
  /** `KNM_OIDC_GROUPS_CLAIM`: the claim listing the person's groups. Default `groups`. */
  groupsClaim: string;
  /** `KNM_OIDC_ROLE_MAP`: which groups give which role on which clusters. Required. */
  roleMap: RoleMap;
  /** `KNM_OIDC_SESSION_TTL`: the longest a sign-in lasts, renewals included. Default 12 h. */
  sessionTtlSeconds: number;
  /**
   * `KNM_OIDC_LOGIN_LIMIT`: sign-ins started per client address per minute (each keeps a
   * login record in Redis for 10 minutes); then 429. 0 turns it off. Default 60.
   */
  loginLimit: number;
}

/** Why the OIDC configuration cannot be used. */
export class OidcConfigError extends Error {
  override readonly name = 'OidcConfigError';
}

const DEFAULT_SCOPES = ['openid', 'profile', 'email', 'offline_access'];

/**
 * The OIDC configuration of `env`, or undefined when `KNM_OIDC_ISSUER` is not set.
 * Throws {@link OidcConfigError} listing every problem.
 */
export function loadOidcConfig(env: Readonly<Record<string, string | undefined>>): OidcConfig | undefined {
  const issuer = env['KNM_OIDC_ISSUER'] || undefined;
  if (issuer === undefined) return undefined;
  const problems: string[] = [];
  const url = (name: string, value: string | undefined): void => {
    if (value === undefined) return;
    try {
      const parsed = new URL(value);
      if (parsed.protocol !== 'https:' && !isLoopback(parsed.hostname)) {
        problems.push(`${name} must be https (plain http only on loopback, for tests)`);
      }
    } catch {
      problems.push(`${name} must be a URL`);
    }
  };
  url('KNM_OIDC_ISSUER', issuer);
  const redirectUri = env['KNM_OIDC_REDIRECT_URI'] || undefined;
  url('KNM_OIDC_REDIRECT_URI', redirectUri);
  const clientId = env['KNM_OIDC_CLIENT_ID'] || undefined;
  if (clientId === undefined) problems.push('KNM_OIDC_CLIENT_ID is required with KNM_OIDC_ISSUER');
  let roleMap: RoleMap | undefined;
  const roleMapText = env['KNM_OIDC_ROLE_MAP'] || undefined;
  if (roleMapText === undefined) {
    problems.push(
      'KNM_OIDC_ROLE_MAP is required with KNM_OIDC_ISSUER (e.g. sre=admin:*;team-a=operator:dev)',
    );
  } else {
    try {
      roleMap = RoleMap.parse(roleMapText);
    } catch (err) {
      if (!(err instanceof RoleMapParseError)) throw err;
      problems.push(`KNM_OIDC_ROLE_MAP: ${err.message}`);
    }
  }
  let sessionTtlSeconds = 12 * 3600;
  if (env['KNM_OIDC_SESSION_TTL']) {
    try {
      sessionTtlSeconds = parseDurationSeconds(env['KNM_OIDC_SESSION_TTL']);
    } catch (err) {
      if (!(err instanceof DurationParseError)) throw err;
      problems.push(`KNM_OIDC_SESSION_TTL: ${err.message}`);
    }
  }
  const loginLimit = env['KNM_OIDC_LOGIN_LIMIT'] ? Number(env['KNM_OIDC_LOGIN_LIMIT']) : 60;
  if (!Number.isInteger(loginLimit) || loginLimit < 0) {
    problems.push('KNM_OIDC_LOGIN_LIMIT must be a whole number (0 turns the limit off)');
  }
  const scopes = env['KNM_OIDC_SCOPES']
    ? env['KNM_OIDC_SCOPES'].split(/[\s,]+/).filter(Boolean)
    : DEFAULT_SCOPES;
  if (!scopes.includes('openid')) problems.push('KNM_OIDC_SCOPES must include openid');
  if (problems.length > 0 || clientId === undefined || roleMap === undefined) {
    throw new OidcConfigError(`invalid OIDC configuration: ${problems.join('; ')}`);
  }
  const clientSecret = env['KNM_OIDC_CLIENT_SECRET'] || undefined;
  return {
    issuer,
    clientId,
    ...(clientSecret !== undefined ? { clientSecret } : {}),
    ...(redirectUri !== undefined ? { redirectUri } : {}),
    scopes,
    usernameClaim: env['KNM_OIDC_USERNAME_CLAIM'] || 'sub',
    groupsClaim: env['KNM_OIDC_GROUPS_CLAIM'] || 'groups',
    roleMap,
    sessionTtlSeconds,
    loginLimit,
  };
}

/** True for names and addresses that never leave the machine. */
export function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}
