import { sleep, type ClientFleet } from '@knm/testing';

/**
 * Waits until every client of `fleet` has applied everything up to `seq` (the lowest
 * view seq of its processes reached it), or until `deadline` (a `performance.now()`
 * time); true when it did. Checks at once, then every 20 ms: scenarios time bursts by
 * when it returns.
 */
export async function untilFleetAt(fleet: ClientFleet, seq: number, deadline: number): Promise<boolean> {
  const reached = async (): Promise<boolean> =>
    Math.min(...(await fleet.stats()).map((s) => s.minSeq)) >= seq;
  let done = await reached();
  while (!done && performance.now() < deadline) {
    await sleep(20);
    done = await reached();
  }
  return done;
}
