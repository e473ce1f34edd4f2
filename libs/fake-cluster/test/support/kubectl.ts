import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The outcome of one kubectl run. */
export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real kubectl against a kubeconfig, with a private cache dir, and a timeout. */
export class Kubectl {
  readonly dir: string;
  readonly kubeconfigPath: string;

  constructor(kubeconfig: string) {
    this.dir = mkdtempSync(join(tmpdir(), 'knm-kubectl-'));
    this.kubeconfigPath = join(this.dir, 'kubeconfig.json');
    writeFileSync(this.kubeconfigPath, kubeconfig, { mode: 0o600 });
  }

  run(args: readonly string[], timeoutMs = 60_000): Promise<KubectlResult> {
    return new Promise((resolve) => {
      execFile(
        'kubectl',
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
