import { readFlags } from '@knm/cli';
import { SCENARIOS } from './scenarios.js';

/** A command line the harness cannot run with; main prints it with the usage and exits 2. */
export class ChaosUsageError extends Error {
  override readonly name = 'ChaosUsageError';
}

export const CHAOS_USAGE = `usage: npm run chaos -- [--quick] [--only a,b] [--soak-minutes N] [--clients N] [--out DIR]
  --quick           CI size: 1 cluster, 6 scenario clients, 6 s outage, soak of 100 clients for 40 s
  --only a,b        run only these (scenarios: ${SCENARIOS.map((s) => s.name).join(', ')}; and "soak")
  --soak-minutes N  soak duration (default 10 full, 0.67 quick; 0 = no soak)
  --clients N       soak clients (default 5000 full, 100 quick)
  --out DIR         where results go (default chaos/results)`;

/** Everything a run is configured with. */
export interface ChaosOptions {
  quick: boolean;
  scenarios: string[];
  soak: boolean;
  soakMinutes: number;
  soakClients: number;
  outDir: string;
  clusters: number;
  nodes: number;
  pods: number;
  churn: number;
  /** Churn per cluster during the soak (full: lower, so 5,000 clients fit this machine). */
  soakChurn: number;
  scenarioClients: number;
  outageSeconds: number;
}

function positive(flag: string, raw: string, integer: boolean): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) {
    throw new ChaosUsageError(`--${flag} must be a ${integer ? 'whole ' : ''}number >= 0, got "${raw}"`);
  }
  return n;
}

/** Parses the command line (without node and script). */
export function parseChaosOptions(argv: readonly string[], defaultOutDir: string): ChaosOptions | 'help' {
  const values = readFlags(
    argv,
    {
      quick: 'boolean',
      only: 'string',
      'soak-minutes': 'string',
      clients: 'string',
      out: 'string',
      help: 'boolean',
    },
    (m) => new ChaosUsageError(m),
  );
  if (values['help']) return 'help';
  const quick = values['quick'] === true;
  const known = new Set([...SCENARIOS.map((s) => s.name), 'soak']);
  let selected = [...known];
  if (typeof values['only'] === 'string') {
    selected = values['only']
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const unknown = selected.filter((s) => !known.has(s));
    if (unknown.length > 0 || selected.length === 0) {
      throw new ChaosUsageError(
        `--only: unknown ${unknown.join(', ') || '(empty)'}; known: ${[...known].join(', ')}`,
      );
    }
  }
  const soakMinutes =
    typeof values['soak-minutes'] === 'string'
      ? positive('soak-minutes', values['soak-minutes'], false)
      : quick
        ? 0.67
        : 10;
  const soakClients =
    typeof values['clients'] === 'string'
      ? positive('clients', values['clients'], true)
      : quick
        ? 100
        : 5_000;
  return {
    quick,
    scenarios: SCENARIOS.map((s) => s.name).filter((n) => selected.includes(n)),
    soak: selected.includes('soak') && soakMinutes > 0 && soakClients > 0,
    soakMinutes,
    soakClients,
    outDir: typeof values['out'] === 'string' ? values['out'] : defaultOutDir,
    clusters: quick ? 1 : 2,
    nodes: quick ? 30 : 100,
    pods: quick ? 600 : 3_000,
    churn: quick ? 20 : 40,
    soakChurn: quick ? 20 : 10,
    scenarioClients: quick ? 6 : 20,
    outageSeconds: quick ? 6 : 30,
  };
}
