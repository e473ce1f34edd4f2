import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { KubeconfigRejectedError } from './kubeconfig-rejected-error.js';

/** A kubeconfig accepted for registration, reduced to what its selected context uses. */
export interface AcceptedKubeconfig {
  /**
   * JSON text of a kubeconfig with one cluster, one user and one context (the
   * selected ones), current: what is stored and what every process loads. Storing
   * this rather than the upload keeps other contexts' credentials out of Redis and
   * makes every reader parse exactly what was checked.
   */
  kubeconfig: string;
  /** The selected context's name. */
  context: string;
  /** The API server's URL. */
  server: string;
}

/** Options of {@link acceptKubeconfig}. */
export interface AcceptKubeconfigOptions {
  /** The context to use; absent = the kubeconfig's `current-context`. */
  context?: string;
  /** Exec plugin commands that may run ({@link parseExecAllowlist}). */
  execAllowlist: ReadonlySet<string>;
}

/**
 * The fields a registered kubeconfig may use. Unknown fields are dropped (client-node
 * ignores them too); the file references client-node would read from the server's
 * disk at load or request time are listed so they can be refused by name.
 */
const ClusterSchema = z.object({
  server: z.string().min(1),
  'certificate-authority-data': z.string().optional(),
  'certificate-authority': z.string().optional(),
  'insecure-skip-tls-verify': z.boolean().optional(),
  'tls-server-name': z.string().optional(),
});
const ExecSchema = z.object({
  command: z.string().min(1),
  args: z.array(z.string()).optional(),
  env: z.array(z.object({ name: z.string(), value: z.string() })).nullish(),
  apiVersion: z.string().optional(),
  interactiveMode: z.string().optional(),
  provideClusterInfo: z.boolean().optional(),
});
const UserSchema = z.object({
  token: z.string().optional(),
  'token-file': z.string().optional(),
  tokenFile: z.string().optional(),
  'client-certificate-data': z.string().optional(),
  'client-certificate': z.string().optional(),
  'client-key-data': z.string().optional(),
  'client-key': z.string().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  as: z.string().optional(),
  exec: ExecSchema.optional(),
  'auth-provider': z
    .object({ name: z.string(), config: z.record(z.string(), z.string()).optional() })
    .optional(),
});
const ContextSchema = z.object({
  cluster: z.string().min(1),
  user: z.string().min(1),
  namespace: z.string().optional(),
});
const KubeconfigSchema = z.object({
  clusters: z.array(z.object({ name: z.string().min(1), cluster: ClusterSchema })).nullish(),
  users: z.array(z.object({ name: z.string().min(1), user: UserSchema })).nullish(),
  contexts: z.array(z.object({ name: z.string().min(1), context: ContextSchema })).nullish(),
  'current-context': z.string().optional(),
});
type Cluster = z.infer<typeof ClusterSchema>;
type User = z.infer<typeof UserSchema>;

/**
 * Reads an uploaded kubeconfig (YAML or JSON), selects its context and checks that it
 * can be used on a server: self-contained (`*-data` fields, no paths on our disk), no
 * exec plugin unless allowed, no `auth-provider` (they run programs or need files,
 * except `oidc`). Throws a {@link KubeconfigRejectedError} saying what to change.
 *
 * Parsed here, before client-node sees it: client-node reads `token-file` while it
 * loads a kubeconfig, which would send a file of our server as a bearer token.
 */
export function acceptKubeconfig(text: string, options: AcceptKubeconfigOptions): AcceptedKubeconfig {
  let raw: unknown;
  try {
    raw = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    // The parser's message quotes no more than a position and a short excerpt of the
    // syntax error; a credential line could be that excerpt, so only the position goes.
    const where = err instanceof Error && 'linePos' in err ? linePosition(err.linePos) : '';
    throw new KubeconfigRejectedError(`the kubeconfig is not valid YAML or JSON${where}`);
  }
  const parsed = KubeconfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new KubeconfigRejectedError(
      `the kubeconfig is not a kubeconfig: ${issue ? `${issue.path.join('.') || '(top)'}: ${issue.message}` : 'unreadable'}`,
    );
  }
  const config = parsed.data;
  const contextNames = (config.contexts ?? []).map((c) => c.name);
  const contextName = options.context ?? config['current-context'];
  if (contextName === undefined || contextName === '') {
    throw new KubeconfigRejectedError(
      `the kubeconfig has no current-context: choose one of ${listNames(contextNames)}`,
    );
  }
  const context = config.contexts?.find((c) => c.name === contextName)?.context;
  if (context === undefined) {
    throw new KubeconfigRejectedError(
      `the kubeconfig has no context "${contextName}": it has ${listNames(contextNames)}`,
    );
  }
  const cluster = config.clusters?.find((c) => c.name === context.cluster)?.cluster;
  if (cluster === undefined) {
    throw new KubeconfigRejectedError(
      `context "${contextName}" names cluster "${context.cluster}", which the kubeconfig does not have`,
    );
  }
  const user = config.users?.find((u) => u.name === context.user)?.user;
  if (user === undefined) {
    throw new KubeconfigRejectedError(
      `context "${contextName}" names user "${context.user}", which the kubeconfig does not have`,
    );
  }
  checkServer(cluster.server);
  checkSelfContained(cluster, user);
  checkPlugins(user, options.execAllowlist);
  const minimal = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: context.cluster, cluster: pickDefined(cluster, ['certificate-authority']) }],
    users: [
      {
        name: context.user,
        user: pickDefined(user, ['token-file', 'tokenFile', 'client-certificate', 'client-key']),
      },
    ],
    contexts: [{ name: contextName, context }],
    'current-context': contextName,
  };
  return {
    kubeconfig: `${JSON.stringify(minimal, null, 2)}\n`,
    context: contextName,
    server: cluster.server,
  };
}

function checkServer(server: string): void {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new KubeconfigRejectedError(`the cluster's server "${server}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new KubeconfigRejectedError(
      `the cluster's server must be an https:// (or http://) URL, not ${url.protocol}`,
    );
  }
  if (url.username || url.password) {
    throw new KubeconfigRejectedError("the cluster's server URL must not carry a user name or password");
  }
}

function checkSelfContained(cluster: Cluster, user: User): void {
  const references: string[] = [];
  if (cluster['certificate-authority'] !== undefined)
    references.push('certificate-authority (use certificate-authority-data)');
  if (user['client-certificate'] !== undefined)
    references.push('client-certificate (use client-certificate-data)');
  if (user['client-key'] !== undefined) references.push('client-key (use client-key-data)');
  if (user['token-file'] !== undefined || user.tokenFile !== undefined)
    references.push('token-file (use token)');
  if (references.length > 0) {
    throw new KubeconfigRejectedError(
      `the kubeconfig refers to files (${references.join(', ')}): a kubeconfig registered on a server must be self-contained, with the certificates, key and token inline`,
    );
  }
}

function checkPlugins(user: User, allowlist: ReadonlySet<string>): void {
  const exec = user.exec;
  if (exec !== undefined && !allowlist.has(exec.command)) {
    throw new KubeconfigRejectedError(
      `the kubeconfig's user runs the exec plugin "${exec.command}", which would run a program on knm's servers: it is not in KNM_EXEC_ALLOWLIST` +
        (allowlist.size === 0 ? ' (empty: no exec plugin may run)' : ` (${[...allowlist].join(', ')})`),
    );
  }
  const steering = (exec?.env ?? []).map((e) => e.name).filter((name) => STEERING_ENV.test(name));
  if (steering.length > 0) {
    throw new KubeconfigRejectedError(
      `the kubeconfig's exec plugin sets ${steering.join(', ')}, which would change what program runs or what it loads: remove ${steering.length === 1 ? 'it' : 'them'}`,
    );
  }
  const provider = user['auth-provider'];
  if (provider !== undefined && provider.name !== 'oidc') {
    throw new KubeconfigRejectedError(
      `the kubeconfig's user uses the auth-provider "${provider.name}", which needs a program or files on the client: use a token, a client certificate or an allowed exec plugin`,
    );
  }
}

/**
 * Environment variables an exec plugin's `env` may not set: they choose the program
 * that runs (PATH) or inject code into it (the loader's and interpreters' preloads),
 * which would turn an allowed command into any program.
 */
const STEERING_ENV =
  /^(LD_\w*|DYLD_\w*|PATH|NODE_OPTIONS|NODE_PATH|PYTHONPATH|PYTHONSTARTUP|PYTHONHOME|PERL5OPT|PERL5LIB|RUBYOPT|RUBYLIB|BASH_ENV|ENV|GCONV_PATH)$/;

function pickDefined<T extends object>(value: T, without: readonly string[]): Partial<T> {
  return Object.fromEntries(
    Object.entries(value).filter(([key, v]) => v !== undefined && v !== null && !without.includes(key)),
  ) as Partial<T>;
}

function listNames(names: readonly string[]): string {
  return names.length === 0 ? 'no contexts' : names.map((n) => `"${n}"`).join(', ');
}

function linePosition(pos: unknown): string {
  const first = Array.isArray(pos) ? (pos[0] as { line?: number; col?: number } | undefined) : undefined;
  return first?.line !== undefined ? ` (line ${first.line}, column ${first.col ?? 0})` : '';
}
