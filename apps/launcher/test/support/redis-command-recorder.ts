import type { Redis } from 'ioredis';

const ALWAYS = new Set([
  'MULTI',
  'EXEC',
  'DISCARD',
  'EVAL',
  'EVALSHA',
  'EVAL_RO',
  'EVALSHA_RO',
  'FCALL',
  'FCALL_RO',
]);

/** One command a Redis server executed, as MONITOR reported it. */
export interface RecordedCommand {
  /** Client address, or `lua` for a command a script ran. */
  source: string;
  args: string[];
}

/**
 * Records, with MONITOR, every command the server runs whose arguments mention
 * `needle` (e.g. a test's key namespace), plus every script, transaction and the
 * commands scripts run,
 * so tests can check what a whole system sends to Redis. MONITOR sees every client of
 * the server: filter by a namespace unique to the test.
 */
export class RedisCommandRecorder {
  readonly commands: RecordedCommand[] = [];
  private monitor: { disconnect(): void } | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly needle: string,
  ) {}

  async start(): Promise<void> {
    const monitor = await this.redis.monitor();
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      const name = (args[0] ?? '').toUpperCase();
      // Scripts, their calls and transactions of every client are kept (a script's calls are
      // told apart only by the script line before them); other commands only when they
      // mention the needle.
      const relevant = source === 'lua' || ALWAYS.has(name) || args.some((a) => a.includes(this.needle));
      if (relevant) this.commands.push({ source, args });
    });
    this.monitor = monitor;
  }

  stop(): void {
    this.monitor?.disconnect();
    this.monitor = undefined;
  }
}
