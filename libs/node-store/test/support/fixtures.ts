import type { Redis } from 'ioredis';
import { EnvelopeSchema, decodeJson, type Envelope, type Keyspace } from '@knm/contracts';

/** Every envelope in a cluster's events stream, decoded (throws on a bad one). */
export async function readStream(redis: Redis, keyspace: Keyspace, cluster: string): Promise<Envelope[]> {
  const entries = await redis.xrange(keyspace.cluster(cluster as never).events, '-', '+');
  return entries.map(([id, fields]) => {
    const envelope = decodeJson(EnvelopeSchema, fields[1] ?? '', `entry ${id}`);
    if (fields[0] !== 'e' || id !== `${envelope.seq}-0`)
      throw new Error(`bad entry ${id}: ${fields.join(' ')}`);
    return envelope;
  });
}

/** Collects decoded envelopes published on a cluster's channel (on its own connection). */
export async function collectChannel(
  subscriber: Redis,
  keyspace: Keyspace,
  cluster: string,
): Promise<{ received: Envelope[]; raw: string[] }> {
  const channel = keyspace.cluster(cluster as never).changes;
  const received: Envelope[] = [];
  const raw: string[] = [];
  subscriber.on('message', (ch: string, message: string) => {
    if (ch !== channel) return;
    raw.push(message);
    received.push(decodeJson(EnvelopeSchema, message, 'channel message'));
  });
  await subscriber.subscribe(channel);
  return { received, raw };
}
