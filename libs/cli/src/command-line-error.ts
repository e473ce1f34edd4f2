/**
 * A command line that does not fit a command's flags: an unknown flag, a flag
 * without its value, a positional argument. The message names the flag; the
 * command adds its usage and exits 2.
 */
export class CommandLineError extends Error {
  override readonly name = 'CommandLineError';
}
