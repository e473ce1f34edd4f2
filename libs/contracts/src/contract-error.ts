import type { z } from 'zod';

/**
 * The most issues a {@link ContractError}'s message spells out, and the most an error
 * answer lists in `details` ({@link listedIssues}): a request with thousands of bad
 * items (2,000 duplicate node names) must not earn a quarter-megabyte error body.
 */
export const MAX_LISTED_ISSUES = 20;

/**
 * `issues` as an error answer lists them: the first {@link MAX_LISTED_ISSUES}, then
 * one entry saying how many more there were.
 */
export function listedIssues(
  issues: readonly { path: string; message: string }[],
): { path: string; message: string }[] {
  if (issues.length <= MAX_LISTED_ISSUES) return [...issues];
  const more = issues.length - MAX_LISTED_ISSUES;
  return [
    ...issues.slice(0, MAX_LISTED_ISSUES),
    { path: '', message: `... and ${more} more issue(s) (${issues.length} in all)` },
  ];
}

/**
 * A message that crossed a process boundary (Redis, pub/sub, Socket.IO, HTTP) and
 * does not match its contract. `issues` lists every problem with its path, so the
 * message can be shown to whoever sent the bad input.
 */
export class ContractError extends Error {
  override readonly name = 'ContractError';

  constructor(
    /** What was being decoded, e.g. "subscribe message" or "knm:{dev}:nodes entry". */
    readonly subject: string,
    readonly issues: readonly { path: string; message: string }[],
  ) {
    super(
      `invalid ${subject}: ${listedIssues(issues)
        .map((i) => (i.path ? `${i.path}: ${i.message}` : i.message))
        .join('; ')}`,
    );
  }
}

/**
 * Decodes `input` with `schema` at a boundary. Returns the parsed value or throws a
 * {@link ContractError} naming `subject` and every failing field.
 */
export function decode<S extends z.ZodType>(schema: S, input: unknown, subject: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new ContractError(
    subject,
    result.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })),
  );
}

/** Parses a JSON string and decodes it with `schema`; bad JSON is a {@link ContractError} too. */
export function decodeJson<S extends z.ZodType>(schema: S, json: string, subject: string): z.output<S> {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new ContractError(subject, [{ path: '', message: `not JSON (${(err as Error).message})` }]);
  }
  return decode(schema, value, subject);
}
