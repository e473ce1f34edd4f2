import { CommandLineError, readFlags } from '@knm/cli';
import { ClusterConnectionStore } from '@knm/cluster-connections';
import { DEFAULT_NAMESPACE, Keyspace } from '@knm/contracts';
import { createRedisConnection } from '@knm/node-store';
import { SecretBox, SecretsKeyError } from '@knm/secrets';

const USAGE =
  'usage: npm run reseal -- [--redis redis://127.0.0.1:6379] [--namespace knm]\n' +
  'Re-seals every registered cluster sealed under a key of KNM_SECRETS_KEYS_PREVIOUS with KNM_SECRETS_KEY\n' +
  '(the middle step of a key rotation, see the README) and prints how many it re-sealed.';

/**
 * `npm run reseal`: the middle step of a secrets key rotation. Exit 2 with a usage
 * message on bad flags or keys; never prints a key or a credential.
 */
async function main(argv: string[]): Promise<number> {
  let values;
  try {
    values = readFlags(argv, { redis: 'string', namespace: 'string', help: { type: 'boolean', short: 'h' } });
  } catch (err) {
    if (!(err instanceof CommandLineError)) throw err;
    process.stderr.write(`${err.message}\n${USAGE}\n`);
    return 2;
  }
  if (values['help']) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let box: SecretBox;
  try {
    box = SecretBox.fromEnv(process.env);
  } catch (err) {
    if (!(err instanceof SecretsKeyError)) throw err;
    process.stderr.write(`${err.message}\n${USAGE}\n`);
    return 2;
  }
  const redisUrl = values.redis ?? process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
  const namespace = values.namespace ?? process.env['KNM_REDIS_NAMESPACE'] ?? DEFAULT_NAMESPACE;
  const redis = createRedisConnection(redisUrl, 'commands');
  try {
    const store = new ClusterConnectionStore(redis, new Keyspace(namespace), box);
    const count = await store.reseal();
    process.stdout.write(`re-sealed ${count} registered cluster(s) with key ${box.currentKeyId}\n`);
    return 0;
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
