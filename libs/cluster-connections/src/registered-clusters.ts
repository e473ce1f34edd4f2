import { ClusterConnectionRecordSchema, type ClusterConnectionSummary, type Keyspace } from '@knm/contracts';
import type { RedisClient } from '@knm/node-store';

/**
 * The registered clusters without their credentials, by name, read without a
 * `SecretBox`: what a gateway lists even when it has no KNM_SECRETS_KEY. A record that
 * does not decode is left out (and reported to `onInvalid`), so one bad entry does not
 * hide the others.
 */
export async function registeredClusterSummaries(
  redis: RedisClient,
  keyspace: Keyspace,
  onInvalid: (name: string, err: Error) => void = () => undefined,
): Promise<ClusterConnectionSummary[]> {
  const all = await redis.hgetall(keyspace.connections);
  const summaries: ClusterConnectionSummary[] = [];
  for (const [name, raw] of Object.entries(all)) {
    try {
      const { sealed: _sealed, ...summary } = ClusterConnectionRecordSchema.parse(JSON.parse(raw));
      summaries.push(summary);
    } catch (err) {
      onInvalid(name, err as Error);
    }
  }
  return summaries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
