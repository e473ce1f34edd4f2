import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

/** The workspace root (this file lives in libs/testing/src or libs/testing/dist). */
export const WORKSPACE_ROOT = resolve(import.meta.dirname, '..', '..', '..');

/** Options of {@link spawnProcess}. */
export interface SpawnOptions {
  /** Prefix of this process's lines in messages, e.g. "watcher-a". */
  name: string;
  /** Executable. Default: the Node binary running the tests. */
  command?: string;
  args: readonly string[];
  /** Added to (and overriding) the parent's environment. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Default: the workspace root. */
  cwd?: string;
  /** How many characters of output to keep (the newest). Default 1,000,000. */
  maxOutput?: number;
}

/** How a process ended. */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * A child process started by a test, with its output captured and its end
 * guaranteed: it runs in its own process group, and every one still alive when the
 * test process exits is SIGKILLed with its group.
 */
export class ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Settles when the process has exited. */
  readonly exited: Promise<ProcessExit>;
  private buffer = '';
  private readonly maxOutput: number;
  private readonly listeners = new Set<() => void>();
  private exit: ProcessExit | undefined;

  constructor(options: SpawnOptions) {
    this.name = options.name;
    this.maxOutput = options.maxOutput ?? 1_000_000;
    this.child = spawn(options.command ?? process.execPath, [...options.args], {
      cwd: options.cwd ?? WORKSPACE_ROOT,
      env: { ...TYPESCRIPT_ENV, ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const onData = (chunk: Buffer): void => {
      this.buffer += chunk.toString('utf8');
      if (this.buffer.length > this.maxOutput) this.buffer = this.buffer.slice(-this.maxOutput);
      for (const l of this.listeners) l();
    };
    this.child.stdout?.on('data', onData);
    this.child.stderr?.on('data', onData);
    this.exited = new Promise((resolveExit) => {
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        live.delete(this);
        for (const l of this.listeners) l();
        resolveExit(this.exit);
      });
      this.child.once('error', (err) => {
        this.buffer += `\n[spawn error] ${err.message}\n`;
        this.exit = { code: null, signal: null };
        live.delete(this);
        resolveExit(this.exit);
      });
    });
    live.add(this);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** True until the process has exited. */
  get running(): boolean {
    return this.exit === undefined;
  }

  /** Everything the process printed so far (stdout and stderr interleaved, newest kept). */
  output(): string {
    return this.buffer;
  }

  /**
   * Resolves with the first match of `pattern` in the output (searching from
   * `fromOffset`, default the start); rejects when the process exits first or
   * after `timeout` ms, with the output's tail in the message.
   */
  waitForOutput(pattern: RegExp, timeout = 15_000, fromOffset = 0): Promise<RegExpMatchArray> {
    return new Promise((resolveMatch, reject) => {
      const check = (): boolean => {
        const match = this.buffer.slice(fromOffset).match(pattern);
        if (match) {
          done();
          resolveMatch(match);
          return true;
        }
        if (this.exit) {
          done();
          reject(
            new Error(
              `${this.name} exited (${JSON.stringify(this.exit)}) before printing ${pattern}\n${this.tail()}`,
            ),
          );
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.name} did not print ${pattern} within ${timeout} ms\n${this.tail()}`));
      }, timeout);
      const done = (): void => {
        clearTimeout(timer);
        this.listeners.delete(listener);
      };
      const listener = (): void => void check();
      this.listeners.add(listener);
      check();
    });
  }

  /** Sends `signal` to the whole process group. */
  signal(signal: NodeJS.Signals): void {
    if (this.exit || this.pid < 0) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      // Already gone.
    }
  }

  /**
   * Asks the process to stop (`signal`, default SIGTERM) and waits; after
   * `graceMs` (default 10,000) it is SIGKILLed. Resolves with how it exited.
   */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<ProcessExit> {
    if (this.exit) return this.exit;
    this.signal(signal);
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The last `lines` lines of output, prefixed with the process name. */
  tail(lines = 40): string {
    return this.buffer
      .split('\n')
      .slice(-lines)
      .map((l) => `[${this.name}] ${l}`)
      .join('\n');
  }
}

const live = new Set<ManagedProcess>();
process.once('exit', () => {
  for (const p of live) p.signal('SIGKILL');
});

/** Starts a child process; see {@link ManagedProcess}. */
export function spawnProcess(options: SpawnOptions): ManagedProcess {
  return new ManagedProcess(options);
}

const tsxLoader = createRequire(resolve(WORKSPACE_ROOT, 'package.json')).resolve('tsx');

/**
 * The environment under which tsx compiles workspace sources the way the npm scripts
 * do: with `tsconfig.base.json` (decorators for NestJS, the `@knm/source` condition).
 * The root `tsconfig.json` is a solution file that includes no files, so tsx would
 * otherwise apply none of its options. Every process started here gets it.
 */
export const TYPESCRIPT_ENV: Readonly<Record<string, string>> = {
  TSX_TSCONFIG_PATH: resolve(WORKSPACE_ROOT, 'tsconfig.base.json'),
};

/**
 * The Node arguments that run a TypeScript entry point of this workspace from
 * source, exactly as the npm scripts do (`node --conditions=@knm/source --import tsx`);
 * run them with {@link TYPESCRIPT_ENV} in the environment ({@link spawnProcess} adds it).
 */
export function typeScriptNodeArgs(entry: string): string[] {
  return ['--conditions=@knm/source', '--import', tsxLoader, resolve(WORKSPACE_ROOT, entry)];
}

/** Starts `apps/<app>/src/main.ts` from source with `args`. */
export function spawnApp(
  app: string,
  args: readonly string[],
  options: Omit<SpawnOptions, 'args' | 'command' | 'name'> & { name?: string } = {},
): ManagedProcess {
  return spawnProcess({
    ...options,
    name: options.name ?? app,
    args: [...typeScriptNodeArgs(`apps/${app}/src/main.ts`), ...args],
  });
}
