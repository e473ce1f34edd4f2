import type { z } from 'zod';
import { decode } from '@knm/contracts';

/** Raw query strings whose decoding {@link DecodedQueries} keeps, by default. */
const DEFAULT_KEPT = 1024;

/**
 * A query string's decoding with a zod schema, kept per raw query string (the part
 * of the URL after `?`, as sent): the same string always parses to the same object,
 * so it decodes to the same value, or fails with the same error. Clients poll the
 * same few URLs; zod's parse of a node list query was a few percent of a gateway's
 * CPU per cached answer. The values are frozen: every request of that string shares
 * one. At most `kept` strings, the oldest forgotten first.
 */
export class DecodedQueries<S extends z.ZodType> {
  private readonly decoded = new Map<string, { value: Readonly<z.output<S>> } | { error: unknown }>();

  constructor(
    private readonly schema: S,
    private readonly subject: string,
    private readonly kept = DEFAULT_KEPT,
  ) {}

  /** The decoding of `parsed`, Fastify's parse of the query string of `url`; throws the schema's ContractError. */
  decode(url: string, parsed: unknown): Readonly<z.output<S>> {
    const q = url.indexOf('?');
    const raw = q < 0 ? '' : url.slice(q + 1);
    let known = this.decoded.get(raw);
    if (!known) {
      try {
        known = { value: Object.freeze(decode(this.schema, parsed, this.subject)) };
      } catch (error) {
        known = { error };
      }
      if (this.decoded.size >= this.kept) this.decoded.delete(this.decoded.keys().next().value as string);
      this.decoded.set(raw, known);
    }
    if ('error' in known) throw known.error;
    return known.value;
  }
}
