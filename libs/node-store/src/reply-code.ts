/**
 * The first element of every knm Lua script's reply `{code, value, ...}`, for the
 * write scripts and the lease scripts alike: `ok` means the script did what was
 * asked; any other code names why it changed nothing. The scripts' Lua text
 * interpolates these constants, so a script and the code reading its reply cannot
 * disagree.
 */
export const ReplyCode = {
  /** Done. The value is the result: a seq (write scripts), an epoch (acquire) or '' (renew, release). */
  ok: 0,
  /** The writer's epoch is no longer the cluster's. The value is the current epoch ('' when missing). */
  fenced: 1,
  /** A rebuild's staged hashes were incomplete, so nothing was swapped. The value says what was staged. */
  stagingLost: 2,
  /**
   * The lease is not the caller's. The value is its holder ('' when nobody holds it);
   * an acquire adds the current epoch as a third element.
   */
  notHolder: 3,
  /**
   * A node's stored state (snapshot and incident tracker) is not the one the caller
   * derived its history from, so nothing was written. The value is the node's name.
   */
  stale: 4,
} as const;

export type ReplyCode = (typeof ReplyCode)[keyof typeof ReplyCode];
