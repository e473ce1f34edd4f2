import { SetMetadata } from '@nestjs/common';

/** Metadata key that marks a handler or controller as open (no token needed). */
export const IS_PUBLIC = 'knm:isPublic';

/** Marks a handler or controller as open: health endpoints only. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);
