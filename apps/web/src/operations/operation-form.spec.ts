import { describe, expect, it } from 'vitest';
import { toRequest, validateForm, type OperationFormState } from './operation-form.js';

const form = (over: Partial<OperationFormState>): OperationFormState => ({
  action: 'label',
  nodes: ['node-1', 'node-2'],
  key: '',
  value: '',
  effect: 'NoSchedule',
  reason: '',
  timeoutSeconds: '',
  ...over,
});

describe('operation form', () => {
  it('builds the request of each action', () => {
    expect(toRequest(form({ action: 'label', key: 'env', value: 'prod', reason: ' why ' }))).toEqual({
      action: 'label',
      nodes: ['node-1', 'node-2'],
      params: { labels: { env: 'prod' } },
      reason: 'why',
    });
    expect(toRequest(form({ action: 'untaint', key: 'gpu', effect: 'NoExecute' }))).toMatchObject({
      params: { taints: [{ key: 'gpu', effect: 'NoExecute' }] },
    });
    expect(toRequest(form({ action: 'taint', key: 'gpu' }))).toMatchObject({
      params: { taints: [{ key: 'gpu', effect: 'NoSchedule' }] },
    });
    expect(toRequest(form({ action: 'drain', timeoutSeconds: '60' }))).toMatchObject({
      params: { timeoutSeconds: 60 },
    });
    expect(toRequest(form({ action: 'cordon' }))).toMatchObject({ action: 'cordon', params: {} });
  });

  it('accepts valid input', () => {
    expect(validateForm(form({ key: 'example.com/team', value: 'ml-1' }))).toEqual({});
    expect(validateForm(form({ action: 'cordon' }))).toEqual({});
    expect(validateForm(form({ action: 'taint', key: 'dedicated', value: '' }))).toEqual({});
  });

  it('names the bad field with the Kubernetes rule it breaks', () => {
    expect(validateForm(form({ key: '' }))).toEqual({ key: 'key is required' });
    expect(validateForm(form({ action: 'cordon', key: '' }))).toEqual({});
    expect(validateForm(form({ key: 'Bad Key!', value: 'x' })).key).toMatch(/name part must consist/);
    expect(validateForm(form({ key: 'env', value: '-nope-' })).value).toMatch(/valid label/);
    expect(validateForm(form({ action: 'taint', key: 'a/b/c' })).key).toMatch(/at most one '\/'/);
    expect(validateForm(form({ action: 'taint', key: 'gpu', value: 'x'.repeat(64) })).value).toMatch(/63/);
    expect(validateForm(form({ action: 'drain', timeoutSeconds: 'soon' })).timeoutSeconds).toMatch(
      /whole number/,
    );
    expect(validateForm(form({ action: 'cordon', nodes: [] })).nodes).toBe('select at least one node');
    expect(validateForm(form({ action: 'cordon', reason: 'r'.repeat(2000) })).reason).toMatch(/at most 1024/);
  });
});
