import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** One kubectl binary of a given minor version. */
export interface KubectlBinary {
  minor: number;
  path: string;
}

/**
 * The versioned kubectl binaries installed beside the default one (`kubectl.1.NN`
 * in the folder `command -v kubectl` resolves to, as the Google Cloud SDK lays them
 * out), oldest first; empty when there are none.
 */
export function installedKubectls(): KubectlBinary[] {
  let dir: string;
  try {
    dir = dirname(
      realpathSync(execFileSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).trim()),
    );
  } catch {
    return [];
  }
  return readdirSync(dir)
    .map((name) => /^kubectl\.1\.(\d+)$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ minor: Number(m[1]), path: join(dir, m[0]) }))
    .sort((a, b) => a.minor - b.minor);
}

/** The outcome of one kubectl run. */
export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real kubectl (`binary`, default the one on the PATH) against a kubeconfig, with a private cache dir, and a timeout. */
export class Kubectl {
  readonly dir: string;
  readonly kubeconfigPath: string;

  constructor(
    kubeconfig: string,
    readonly binary = 'kubectl',
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'knm-kubectl-'));
    this.kubeconfigPath = join(this.dir, 'kubeconfig.json');
    writeFileSync(this.kubeconfigPath, kubeconfig, { mode: 0o600 });
  }

  run(args: readonly string[], timeoutMs = 60_000): Promise<KubectlResult> {
    return new Promise((resolve) => {
      execFile(
        this.binary,
        ['--kubeconfig', this.kubeconfigPath, '--cache-dir', join(this.dir, 'cache'), ...args],
        { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
        (err, stdout, stderr) => {
          const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });
  }

  /** Runs and throws with the output unless it exits 0. */
  async ok(args: readonly string[], timeoutMs = 60_000): Promise<string> {
    const r = await this.run(args, timeoutMs);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.code}\n${r.stderr}\n${r.stdout}`);
    return r.stdout;
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
