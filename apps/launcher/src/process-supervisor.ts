import { spawn, type ChildProcess } from 'node:child_process';
import { LineSplitter } from './log-line-formatter.js';

/** How a child process ended. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** What to start. */
export interface ChildSpec {
  /** Prefix of its lines in the merged log, e.g. `watcher-dev-1`. Unique per supervisor. */
  name: string;
  command: string;
  args: readonly string[];
  /** Added to (and overriding) the launcher's environment. */
  env?: Readonly<Record<string, string | undefined>>;
  cwd?: string;
  /**
   * Stop order: higher tiers are stopped first, one tier at a time, children of a tier
   * together (e.g. gateways 3, watchers 2, simulated clusters 1, Redis 0). Default 1.
   */
  tier?: number;
  /** A task expected to end (e.g. a build): its exit is not reported as a failure. Default false. */
  oneShot?: boolean;
}

/** A child started by {@link ProcessSupervisor.start} exited while nobody asked it to. */
export class ChildProcessFailedError extends Error {
  override readonly name = 'ChildProcessFailedError';

  constructor(
    readonly child: string,
    readonly exit: ChildExit,
    /** Its last lines of output (the error it printed, usually). */
    readonly lastLines: readonly string[],
  ) {
    super(
      `${child} exited unexpectedly (${exit.signal ? `signal ${exit.signal}` : `code ${String(exit.code)}`})`,
    );
  }
}

/** Options of {@link ProcessSupervisor}. */
export interface ProcessSupervisorOptions {
  /** Receives every output line of every child (stdout and stderr), in arrival order. */
  onLine: (name: string, line: string) => void;
  /** Called once per child that exits while the supervisor is not stopping. */
  onUnexpectedExit: (error: ChildProcessFailedError) => void;
  /** How long a child has after SIGTERM before its group gets SIGKILL. Default 10,000 ms. */
  stopGraceMs?: number;
  /** Lines of output kept per child for {@link ChildProcessFailedError.lastLines}. Default 30. */
  keepLines?: number;
}

/** One child of a {@link ProcessSupervisor}. */
export class SupervisedChild {
  readonly name: string;
  readonly tier: number;
  /** Settles when the process has exited (never rejects). */
  readonly exited: Promise<ChildExit>;
  private exit: ChildExit | undefined;
  private readonly recent: string[] = [];
  private readonly waiters = new Set<(line: string) => void>();

  constructor(
    readonly child: ChildProcess,
    spec: ChildSpec,
    private readonly keepLines: number,
  ) {
    this.name = spec.name;
    this.tier = spec.tier ?? 1;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
      child.once('error', (err) => {
        this.record(`[spawn error] ${err.message}`);
        this.exit ??= { code: null, signal: null };
        resolve(this.exit);
      });
    });
  }

  /** The OS process id (also the id of its process group). */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** True until the process has exited. */
  get running(): boolean {
    return this.exit === undefined;
  }

  /** The newest lines it printed. */
  lastLines(): readonly string[] {
    return [...this.recent];
  }

  /**
   * Resolves with the first line from now on for which `match` returns a value other
   * than undefined; rejects when the process exits first or after `timeoutMs`.
   */
  waitForLine<T>(match: (line: string) => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${this.name} did not report ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      const listener = (line: string): void => {
        const value = match(line);
        if (value === undefined) return;
        cleanup();
        resolve(value);
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        this.waiters.delete(listener);
      };
      this.waiters.add(listener);
      void this.exited.then((exit) => {
        if (!this.waiters.has(listener)) return;
        cleanup();
        reject(new ChildProcessFailedError(this.name, exit, this.lastLines()));
      });
    });
  }

  /** Sends `signal` to the child's whole process group. */
  signal(signal: NodeJS.Signals): void {
    if (!this.running || this.pid < 0) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      // Already gone.
    }
  }

  /** SIGTERM, then SIGKILL to the group after `graceMs`; resolves when it has exited. */
  async stop(graceMs: number): Promise<ChildExit> {
    if (!this.running) return this.exited;
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** @internal Called by the supervisor for each output line. */
  record(line: string): void {
    this.recent.push(line);
    if (this.recent.length > this.keepLines) this.recent.shift();
    for (const w of [...this.waiters]) w(line);
  }
}

/**
 * Starts child processes, each in its own process group (so a terminal's Ctrl-C
 * reaches only the launcher, which then stops them in order), merges their output
 * line by line, reports a child that dies on its own, and stops them all: tier by
 * tier, SIGTERM then SIGKILL after a grace period. If the launcher itself exits
 * without stopping them (a crash), every live group is SIGKILLed on the way out.
 */
export class ProcessSupervisor {
  private readonly children: SupervisedChild[] = [];
  private readonly stopGraceMs: number;
  private readonly keepLines: number;
  private stopping = false;
  private readonly killOnExit = (): void => {
    for (const c of this.children) c.signal('SIGKILL');
  };

  constructor(private readonly options: ProcessSupervisorOptions) {
    this.stopGraceMs = options.stopGraceMs ?? 10_000;
    this.keepLines = options.keepLines ?? 30;
    process.once('exit', this.killOnExit);
  }

  /** Starts `spec`; its lines go to `onLine`. Throws after {@link stopAll} began. */
  start(spec: ChildSpec): SupervisedChild {
    if (this.stopping) throw new Error(`not starting ${spec.name}: stopping`);
    const child = spawn(spec.command, [...spec.args], {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const supervised = new SupervisedChild(child, spec, this.keepLines);
    this.children.push(supervised);
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      const splitter = new LineSplitter();
      stream.setEncoding('utf8');
      const emit = (line: string): void => {
        supervised.record(line);
        this.options.onLine(spec.name, line);
      };
      stream.on('data', (chunk: string) => splitter.push(chunk).forEach(emit));
      stream.on('end', () => splitter.flush().forEach(emit));
    }
    void supervised.exited.then((exit) => {
      if (this.stopping || spec.oneShot === true) return;
      this.options.onUnexpectedExit(new ChildProcessFailedError(spec.name, exit, supervised.lastLines()));
    });
    return supervised;
  }

  /** Every child started, in start order. */
  list(): readonly SupervisedChild[] {
    return [...this.children];
  }

  /** True once {@link stopAll} was called. */
  get isStopping(): boolean {
    return this.stopping;
  }

  /**
   * Stops every child: highest tier first, each tier's children together, SIGTERM then
   * SIGKILL after the grace period. Resolves with each child's exit, by name.
   */
  async stopAll(): Promise<Map<string, ChildExit>> {
    this.stopping = true;
    const exits = new Map<string, ChildExit>();
    const tiers = [...new Set(this.children.map((c) => c.tier))].sort((a, b) => b - a);
    for (const tier of tiers) {
      const group = this.children.filter((c) => c.tier === tier);
      const results = await Promise.all(group.map((c) => c.stop(this.stopGraceMs)));
      group.forEach((c, i) => {
        const exit = results[i];
        if (exit) exits.set(c.name, exit);
      });
    }
    process.removeListener('exit', this.killOnExit);
    return exits;
  }
}
