import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Principal } from '@knm/auth';

const principals = new WeakMap<object, Principal>();

/** Remembers the verified principal of a request (set by the auth guard). */
export function setRequestPrincipal(request: object, principal: Principal): void {
  principals.set(request, principal);
}

/** The verified principal of a request; throws when the auth guard did not run (a wiring bug). */
export function requestPrincipal(request: object): Principal {
  const principal = principals.get(request);
  if (!principal) throw new Error('no principal on this request: is the handler missing the auth guard?');
  return principal;
}

/** Parameter decorator: the caller's verified principal. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, ctx: ExecutionContext) =>
  requestPrincipal(ctx.switchToHttp().getRequest<object>()),
);
