import { describe, expect, it } from 'vitest';
import { kubeconfigContexts } from './kubeconfig-contexts.js';

describe('kubeconfigContexts', () => {
  it('lists the contexts of a YAML or JSON kubeconfig with its current one', () => {
    const yaml = `contexts:\n- name: a\n  context: {cluster: c, user: u}\n- name: b\n  context: {cluster: c, user: u}\ncurrent-context: b\n`;
    expect(kubeconfigContexts(yaml)).toEqual({ names: ['a', 'b'], current: 'b' });
    expect(
      kubeconfigContexts(JSON.stringify({ contexts: [{ name: 'x' }], 'current-context': 'gone' })),
    ).toEqual({
      names: ['x'],
    });
  });

  it('answers undefined for text that is not a kubeconfig (yet)', () => {
    expect(kubeconfigContexts('')).toBeUndefined();
    expect(kubeconfigContexts('contexts: [unclosed')).toBeUndefined();
    expect(kubeconfigContexts('just text')).toBeUndefined();
  });
});
