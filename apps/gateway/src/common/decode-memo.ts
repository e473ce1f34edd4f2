import type { z } from 'zod';
import { decode } from '@knm/contracts';

/** Inputs whose decoding a {@link DecodeMemo} keeps, by default. */
const DEFAULT_KEPT = 1024;

/**
 * The decodings of a request part with a zod schema, kept per raw text (a path
 * parameter, the query string as sent): the same text always parses to the same
 * input, so it decodes to the same value or fails with the same error. Clients poll
 * the same few URLs; zod's parse of a node list query and of the cluster name were a
 * few percent of a gateway's CPU per cached answer. Object values are frozen: every
 * request of that text shares one. At most `kept` texts, the oldest forgotten first.
 */
export class DecodeMemo<S extends z.ZodType> {
  private readonly decoded = new Map<string, { value: z.output<S> } | { error: unknown }>();

  constructor(
    private readonly schema: S,
    private readonly subject: string,
    private readonly kept = DEFAULT_KEPT,
  ) {}

  /**
   * The decoding of `input`, which is a function of `raw` alone (an object frozen:
   * callers share it); throws the schema's ContractError.
   */
  decode(raw: string, input: unknown): z.output<S> {
    const known = this.decoded.get(raw) ?? this.remember(raw, input);
    if ('error' in known) throw known.error;
    return known.value;
  }

  private remember(raw: string, input: unknown): { value: z.output<S> } | { error: unknown } {
    let known: { value: z.output<S> } | { error: unknown };
    try {
      const value = decode(this.schema, input, this.subject);
      Object.freeze(value);
      known = { value };
    } catch (error) {
      known = { error };
    }
    if (this.decoded.size >= this.kept) this.decoded.delete(this.decoded.keys().next().value as string);
    this.decoded.set(raw, known);
    return known;
  }
}

/** The query string of a request URL as sent (after `?`; empty without one). */
export function rawQuery(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? '' : url.slice(q + 1);
}
