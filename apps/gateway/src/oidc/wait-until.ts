import { ServiceUnavailableException } from '@nestjs/common';

/**
 * Polls `condition` every 50 ms until it holds; throws after `timeoutMs`. Used while
 * another replica renews a session: its result arrives in Redis, not as an event here.
 */
export async function waitFor(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new ServiceUnavailableException('your session is being renewed; retry');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
