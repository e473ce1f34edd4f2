import { delimiter } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { WatcherConfigError } from './watcher-config.js';

/** Loads the kubeconfig file the configuration names (or client-node's default chain) and selects the context. */
export function loadKubeConfig(config: { kubeconfig?: string; context?: string }): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (config.kubeconfig && !config.kubeconfig.includes(delimiter)) kc.loadFromFile(config.kubeconfig);
    else kc.loadFromDefault(); // KUBECONFIG list, ~/.kube/config, or the in-cluster service account
  } catch (err) {
    throw new WatcherConfigError(
      `cannot read the kubeconfig${config.kubeconfig ? ` "${config.kubeconfig}"` : ''}: ${(err as Error).message}`,
    );
  }
  return selectContext(kc, config.context, '--context');
}

/** A registered cluster's kubeconfig (its text, as the registry holds it) with its context selected. */
export function kubeConfigFromText(text: string, context: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  try {
    kc.loadFromString(text);
  } catch (err) {
    throw new WatcherConfigError(`cannot read the kubeconfig: ${(err as Error).message}`);
  }
  return selectContext(kc, context, 'the context');
}

function selectContext(kc: KubeConfig, context: string | undefined, what: string): KubeConfig {
  if (context) {
    if (!kc.getContextObject(context)) {
      const known = kc.getContexts().map((c) => c.name);
      throw new WatcherConfigError(
        `${what} "${context}" is not in the kubeconfig (contexts: ${known.join(', ') || 'none'})`,
      );
    }
    kc.setCurrentContext(context);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server) {
    throw new WatcherConfigError(
      `the kubeconfig's context "${kc.getCurrentContext()}" names no cluster with a server; pass --kubeconfig or --context`,
    );
  }
  return kc;
}
