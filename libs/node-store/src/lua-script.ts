import { createHash } from 'node:crypto';
import type { RedisClient } from './redis-client.js';

/**
 * A Lua script run through ioredis `defineCommand` (EVALSHA, falling back to EVAL
 * when the server does not know the script yet, e.g. after a restart or failover).
 * Every key the script touches is passed in `KEYS[]`, never built inside Lua, so a
 * Redis Cluster can route it (all of a cluster's keys share the `{cluster}` slot).
 */
export class LuaScript {
  /** The command name given to ioredis: unique per script text, so two versions never collide. */
  readonly commandName: string;

  constructor(
    /** Human name for errors, e.g. `apply-nodes`. */
    readonly name: string,
    readonly lua: string,
    /** Keys per call; `variable` for a script whose keys depend on its input (ioredis then passes numkeys first). */
    readonly numberOfKeys: number | 'variable',
  ) {
    const sha = createHash('sha1').update(lua).digest('hex').slice(0, 10);
    this.commandName = `knm_${name.replace(/[^a-z0-9]/gi, '_')}_${sha}`;
  }

  /** Runs the script on `redis` with exactly `numberOfKeys` keys. */
  run(redis: RedisClient, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    if (this.numberOfKeys !== 'variable' && keys.length !== this.numberOfKeys) {
      throw new RangeError(`script ${this.name} takes ${this.numberOfKeys} keys, got ${keys.length}`);
    }
    let names = definedOn.get(redis);
    if (!names) {
      names = new Set();
      definedOn.set(redis, names);
    }
    if (!names.has(this.commandName)) {
      redis.defineCommand(
        this.commandName,
        this.numberOfKeys === 'variable'
          ? { lua: this.lua }
          : { lua: this.lua, numberOfKeys: this.numberOfKeys },
      );
      // ioredis copies a connection's scripts into a pipeline when it creates one: an
      // auto-pipeline pending when a script is first defined lacks it, the call throws
      // inside it, and the pipeline's results no longer line up with its callbacks (an
      // uncaught TypeError; its other commands never settle). Scripts bypass it.
      if (redis.options.enableAutoPipelining) {
        const ignored = redis.options.autoPipeliningIgnoredCommands ?? [];
        redis.options.autoPipeliningIgnoredCommands = [...ignored, this.commandName];
      }
      names.add(this.commandName);
    }
    const command: unknown = Reflect.get(redis, this.commandName);
    if (typeof command !== 'function') throw new Error(`ioredis did not define command ${this.commandName}`);
    const head = this.numberOfKeys === 'variable' ? [keys.length, ...keys] : keys;
    return (command as (...a: (string | number)[]) => Promise<unknown>).apply(redis, [...head, ...args]);
  }
}

/** Which script commands were defined on which connection (defineCommand is per client). */
const definedOn = new WeakMap<RedisClient, Set<string>>();

/** The first two elements of a script's `{code, value, ...}` reply (see {@link ReplyCode}). */
export interface ScriptStatus {
  readonly code: number;
  readonly value: string | number;
}

/** Reads a `{code, value}` reply; anything else is `undefined`. */
export function scriptStatus(reply: unknown): ScriptStatus | undefined {
  if (!Array.isArray(reply) || reply.length < 2) return undefined;
  const [code, value] = reply as unknown[];
  if (typeof code !== 'number') return undefined;
  if (typeof value === 'number' || typeof value === 'string') return { code, value };
  if (Buffer.isBuffer(value)) return { code, value: value.toString() };
  return undefined;
}
