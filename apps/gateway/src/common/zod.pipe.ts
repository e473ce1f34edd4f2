import type { PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { decode } from '@knm/contracts';

/**
 * Validates and decodes a request part (query, params, body) with a zod schema at
 * the boundary; a mismatch throws a ContractError, which the error filter turns into
 * a 400 naming each bad field.
 */
export class ZodPipe<S extends z.ZodType> implements PipeTransform<unknown, z.output<S>> {
  constructor(
    private readonly schema: S,
    private readonly subject: string,
  ) {}

  transform(value: unknown): z.output<S> {
    return decode(this.schema, value, this.subject);
  }
}
