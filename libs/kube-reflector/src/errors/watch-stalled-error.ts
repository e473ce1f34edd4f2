/**
 * A watch produced nothing (no event, no bookmark) for longer than the reflector's
 * watchdog allows, so it was aborted; the reflector resumes from the last seen
 * resourceVersion. Watches do stall silently (half-open TCP, a stuck proxy).
 */
export class WatchStalledError extends Error {
  override name = 'WatchStalledError';

  constructor(readonly silentForMs: number) {
    super(`watch silent for ${silentForMs} ms; restarting it`);
  }
}
