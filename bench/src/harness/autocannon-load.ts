import autocannon from 'autocannon';

/** Keep-alive connections of every load (spread round-robin over the gateways). */
export const CONNECTIONS = 20;

/** What one autocannon run measured. */
export type Load = Awaited<ReturnType<typeof autocannon>>;

/**
 * autocannon against every gateway at once: its `url` accepts several targets and
 * spreads the connections over them round-robin (the published types only declare
 * one URL, hence the widened options).
 */
export function load(
  urls: string[],
  path: string,
  headers: Record<string, string>,
  seconds: number,
): Promise<Load> {
  const options = {
    url: urls.map((u) => `${u}${path}`),
    headers,
    connections: CONNECTIONS,
    duration: seconds,
  };
  return autocannon(options as unknown as autocannon.Options);
}
