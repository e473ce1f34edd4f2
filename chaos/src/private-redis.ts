import { startRedisServer, type ManagedProcess } from '@knm/testing';

/**
 * A private `redis-server` for one chaos run: no RDB snapshots, no AOF, so a
 * restart ({@link restart}) comes back empty, which is the "Redis lost all its data"
 * fault. Same port across restarts, so every process reconnects by itself.
 */
export class PrivateRedis {
  private proc: ManagedProcess | undefined;
  /** How many times the server was started. */
  starts = 0;

  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** The running server process (for memory sampling). */
  get process(): ManagedProcess | undefined {
    return this.proc;
  }

  /** Starts the server and waits until it accepts connections. */
  async start(): Promise<void> {
    this.starts += 1;
    this.proc = await startRedisServer({ port: this.port, name: `redis-${this.starts}`, maxOutput: 100_000 });
  }

  /** SIGKILLs the server (all data is gone) and starts an empty one on the same port. */
  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }

  /** SIGKILLs the server and waits for it to exit. */
  async kill(): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    proc.signal('SIGKILL');
    await proc.exited;
  }
}
