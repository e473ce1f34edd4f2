// Registers the compose demo's simulated clusters (dev, prod) in the cluster registry
// (knm:connections, credentials sealed with KNM_SECRETS_KEY), as POST /api/v1/clusters
// does; the watcher pool picks them up from there. Idempotent: a re-run replaces them.
// Usage: node /app/docker/register-clusters.mjs dev=/etc/knm/dev.yaml prod=/etc/knm/prod.yaml
import { readFileSync } from 'node:fs';
import { ClusterConnectionStore } from '@knm/cluster-connections';
import { Keyspace } from '@knm/contracts';
import { createRedisConnection } from '@knm/node-store';
import { SecretBox } from '@knm/secrets';

const redis = createRedisConnection(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', 'commands');
const store = new ClusterConnectionStore(
  redis,
  new Keyspace(process.env.KNM_REDIS_NAMESPACE || 'knm'),
  SecretBox.fromEnv(process.env),
);
for (const arg of process.argv.slice(2)) {
  const [name, file] = arg.split('=');
  const kubeconfig = readFileSync(file, 'utf8');
  const server = /server:\s*(\S+)/.exec(kubeconfig)?.[1] ?? '';
  const { created } = await store.put({ name, server, kubeconfig, by: 'docker-compose' });
  console.log(`${created ? 'registered' : 'replaced'} cluster ${name} (${server})`);
}
await redis.quit();
