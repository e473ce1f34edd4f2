import { parse } from 'yaml';

/** The contexts a kubeconfig offers, for the form's context select. */
export interface KubeconfigContexts {
  names: string[];
  /** Its `current-context`, when it names one of {@link names}. */
  current?: string;
}

/**
 * The context names of a kubeconfig's text (YAML or JSON), read in the browser so the
 * form can offer them; undefined when the text is not a kubeconfig yet (the gateway
 * says why on Test). Reads names only: credentials never leave the textarea here.
 */
export function kubeconfigContexts(text: string): KubeconfigContexts | undefined {
  let doc: unknown;
  try {
    doc = parse(text, { maxAliasCount: 100 });
  } catch {
    return undefined;
  }
  if (typeof doc !== 'object' || doc === null) return undefined;
  const { contexts, 'current-context': current } = doc as { contexts?: unknown; 'current-context'?: unknown };
  if (!Array.isArray(contexts)) return undefined;
  const names = contexts
    .map((c: unknown) => (typeof c === 'object' && c !== null ? (c as { name?: unknown }).name : undefined))
    .filter((n): n is string => typeof n === 'string' && n !== '');
  if (names.length === 0) return undefined;
  return typeof current === 'string' && names.includes(current) ? { names, current } : { names };
}
