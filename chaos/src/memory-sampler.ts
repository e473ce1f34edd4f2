import { readFile } from 'node:fs/promises';
import type { RedisClient } from '@knm/node-store';
import type { MemorySample } from './trend.js';

/** Resident set size of a process in bytes (Linux `/proc/<pid>/status` VmRSS), or undefined when gone. */
export async function rssOf(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(status);
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Redis' `used_memory` (INFO memory), bytes. */
export async function redisUsedMemory(redis: RedisClient): Promise<number | undefined> {
  try {
    const info = await redis.info('memory');
    const m = /^used_memory:(\d+)\r?$/m.exec(info);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The series gathered by a {@link MemorySampler}, by process name. */
export type MemorySeries = Record<string, MemorySample[]>;

/**
 * Samples memory every `intervalMs`: RSS of every named process, plus whatever
 * extra probes return (Redis used_memory, this process' heap). Time is ms since
 * `start`.
 */
export class MemorySampler {
  readonly series: MemorySeries = {};
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly processes: () => readonly { name: string; pid: number }[],
    private readonly probes: Readonly<Record<string, () => Promise<number | undefined>>>,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.startedAt = Date.now();
    const tick = (): void => {
      this.running = this.sample();
      this.timer = setTimeout(() => void this.running.then(tick), this.intervalMs);
    };
    tick();
  }

  async stop(): Promise<MemorySeries> {
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    return this.series;
  }

  private async sample(): Promise<void> {
    const t = Date.now() - this.startedAt;
    const entries: [string, Promise<number | undefined>][] = [
      ...this.processes().map(({ name, pid }): [string, Promise<number | undefined>] => [
        `${name} rss`,
        rssOf(pid),
      ]),
      ...Object.entries(this.probes).map(([name, probe]): [string, Promise<number | undefined>] => [
        name,
        probe(),
      ]),
    ];
    for (const [name, value] of entries) {
      const bytes = await value;
      if (bytes === undefined) continue;
      (this.series[name] ??= []).push({ t, bytes });
    }
  }
}
