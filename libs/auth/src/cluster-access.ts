import { clustersAllow, roleAtLeast, type Role } from '@knm/contracts';
import { ForbiddenError } from './auth-errors.js';
import type { Principal } from './token-verifier.js';

/** Throws {@link ForbiddenError} unless `principal`'s token covers `cluster`. */
export function assertClusterAccess(principal: Principal, cluster: string): void {
  if (!clustersAllow(principal.clusters, cluster)) {
    throw new ForbiddenError(`your token does not cover cluster "${cluster}"`);
  }
}

/** Throws {@link ForbiddenError} unless `principal` has at least `role`. */
export function assertRole(principal: Principal, role: Role): void {
  if (!roleAtLeast(principal.role, role)) {
    throw new ForbiddenError(`this needs role "${role}"; your token has "${principal.role}"`);
  }
}
