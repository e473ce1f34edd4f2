import { parseArgs } from 'node:util';
import { CommandLineError } from './command-line-error.js';

/** What a flag takes: a value (`--port 80`, `--port=80`) or nothing (`--quick`). */
export type FlagKind = 'string' | 'boolean';

/** A flag: its kind, and optionally a one-letter alias (`-h` for `--help`). */
export type FlagDef = FlagKind | { readonly type: FlagKind; readonly short: string };

/** The flags a command takes, by name (without the leading `--`). */
export type FlagSpec = Readonly<Record<string, FlagDef>>;

type KindOf<D extends FlagDef> = D extends { readonly type: infer K } ? K : D;

/** The flags given: a string or `true` per flag on the command line, absent for the others. */
export type Flags<S extends FlagSpec> = {
  readonly [K in keyof S]?: KindOf<S[K]> extends 'boolean' ? boolean : string;
};

/**
 * Reads `argv` (without node and the script) against `spec`, the way every knm
 * command does: unknown flags and positional arguments are refused, a flag given
 * twice keeps its last value. A command line that does not fit throws `fail(message)`
 * (default a {@link CommandLineError}), so each command throws its own usage error:
 * the message is node's own wording (`Unknown option '--x'`), except for a
 * value-taking flag given none, which reads `--x needs a value`.
 */
export function readFlags<const S extends FlagSpec>(
  argv: readonly string[],
  spec: S,
  fail: (message: string) => Error = (message) => new CommandLineError(message),
): Flags<S> {
  const options = Object.fromEntries(
    Object.entries(spec).map(([name, def]) => [name, typeof def === 'string' ? { type: def } : def]),
  );
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values as Flags<S>;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const missing = /^Option '(?:-\w, )?--([\w-]+) <value>' argument missing/.exec(message);
    throw fail(missing ? `--${missing[1]} needs a value` : message);
  }
}
