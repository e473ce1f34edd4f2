import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeSim } from '../../src/index.js';

/** A client library nobody here wrote, run as its own interpreter on scripts under `test/clients/<lang>`. */
export interface ThirdPartyClient {
  /** The Debian package that provides it (what `.ci/run` installs). */
  readonly debianPackage: string;
  /** The interpreter and the arguments that load the library. */
  readonly interpreter: string;
  readonly scriptDir: string;
  /** Whether the library loads on this machine. */
  readonly available: boolean;
}

function loads(interpreter: string, args: readonly string[]): boolean {
  return spawnSync(interpreter, args, { stdio: 'ignore', timeout: 60_000 }).status === 0;
}

// Debian's packages live in the system interpreters' paths, not in a pyenv/rbenv shim's.
const python = process.env['KNM_PYTHON'] ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
const ruby = process.env['KNM_RUBY'] ?? (existsSync('/usr/bin/ruby') ? '/usr/bin/ruby' : 'ruby');
const clientsDir = join(import.meta.dirname, '..', 'clients');

/** Debian's python3-kubernetes. */
export const pythonKubernetes: ThirdPartyClient = {
  debianPackage: 'python3-kubernetes',
  interpreter: python,
  scriptDir: join(clientsDir, 'python'),
  available: loads(python, ['-c', 'import kubernetes.client, kubernetes.watch']),
};

/** Debian's ruby-kubeclient. */
export const rubyKubeclient: ThirdPartyClient = {
  debianPackage: 'ruby-kubeclient',
  interpreter: ruby,
  scriptDir: join(clientsDir, 'ruby'),
  available: loads(ruby, ['-e', 'require "kubeclient"']),
};

/**
 * Whether a suite driving `client` runs: always in CI (CI=true), where a missing
 * library must fail the suite rather than skip it (see {@link requireClient}); elsewhere
 * only when it is installed, saying so when it is not.
 */
export function clientSuiteRuns(client: ThirdPartyClient): boolean {
  if (client.available || process.env['CI'] === 'true') return true;
  console.warn(
    `skipping the ${client.debianPackage} suite: not installed (apt-get install ${client.debianPackage})`,
  );
  return false;
}

/** Throws (failing the test that calls it) when the library is missing; CI installs it with `.ci/run`. */
export function requireClient(client: ThirdPartyClient): void {
  if (!client.available) {
    throw new Error(`${client.debianPackage} is not installed: .ci/run installs it with apt-get`);
  }
}

/** A kubeconfig file for the scripts, removed by {@link ClientWorkspace.dispose}. */
export class ClientWorkspace {
  readonly dir = mkdtempSync(join(tmpdir(), 'knm-client-'));
  readonly kubeconfigPath: string;

  constructor(readonly sim: KubeSim) {
    this.kubeconfigPath = join(this.dir, 'kubeconfig');
    writeFileSync(this.kubeconfigPath, sim.kubeconfig(), { mode: 0o600 });
  }

  /**
   * Runs `script` (in the client's script dir) with the kubeconfig, kube-sim's control
   * URL and `args`; resolves with the JSON document it prints, rejects with its stderr.
   */
  run<T>(
    client: ThirdPartyClient,
    script: string,
    args: readonly string[] = [],
    timeoutMs = 90_000,
  ): Promise<T> {
    return new Promise((resolve, reject) => {
      execFile(
        client.interpreter,
        [join(client.scriptDir, script), this.kubeconfigPath, this.sim.url, ...args],
        { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, cwd: client.scriptDir },
        (err, stdout, stderr) => {
          if (err) {
            reject(new Error(`${script} failed (${err.message}):\n${stderr}\n${stdout}`));
            return;
          }
          try {
            resolve(JSON.parse(stdout) as T);
          } catch {
            reject(new Error(`${script} printed no JSON:\n${stdout}\n${stderr}`));
          }
        },
      );
    });
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
