import { SubjectSchema } from '@knm/contracts';
import { SignInRefusedError, type ProviderIdentity } from './identity-provider.js';
import type { OidcConfig } from './oidc-config.js';
import type { SessionRecord } from './session-store.js';

/** Groups listed in a refusal at most (a person may be in hundreds). */
const LISTED_GROUPS = 10;

/**
 * The session a provider identity gets: its username (the configured claim, a valid
 * knm subject) and the role and clusters its groups map to. Throws
 * {@link SignInRefusedError} saying what is missing: a person with no mapped group
 * is refused, not let in as a viewer of nothing.
 */
export function sessionFor(
  identity: ProviderIdentity,
  config: Pick<OidcConfig, 'usernameClaim' | 'groupsClaim' | 'roleMap'>,
  expiresAt: number,
): SessionRecord {
  const username = SubjectSchema.safeParse(identity.username);
  if (!username.success) {
    throw new SignInRefusedError(
      `the identity provider gave no usable "${config.usernameClaim}" claim to name you by (${username.error.issues[0]?.message ?? 'missing'})`,
    );
  }
  const groups = Array.isArray(identity.groups)
    ? identity.groups.filter((g): g is string => typeof g === 'string')
    : [];
  const grant = config.roleMap.resolve(groups);
  if (grant === undefined) {
    const listed =
      groups.length === 0
        ? `the identity provider lists no groups for you (claim "${config.groupsClaim}")`
        : `your groups (${groups.slice(0, LISTED_GROUPS).join(', ')}${groups.length > LISTED_GROUPS ? `, and ${groups.length - LISTED_GROUPS} more` : ''}) are not`;
    throw new SignInRefusedError(
      `${username.data} is not allowed in knm: ${listed}${groups.length === 0 ? ', and' : ''} mapped to a knm role. Ask an administrator to map one of your groups (KNM_OIDC_ROLE_MAP).`,
    );
  }
  return {
    sub: username.data,
    providerSub: identity.providerSub,
    groups,
    role: grant.role,
    clusters: grant.clusters,
    ...(identity.refreshToken !== undefined ? { refreshToken: identity.refreshToken } : {}),
    renewAt: Math.min(identity.renewAt, expiresAt),
    expiresAt,
  };
}
