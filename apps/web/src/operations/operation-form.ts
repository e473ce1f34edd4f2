import {
  CreateOperationRequestSchema,
  labelValueErrors,
  qualifiedNameErrors,
  type CreateOperationRequestInput,
  type TaintEffect,
} from '@knm/contracts';

/** The operations the dashboard offers (add/remove label and taint are one form each). */
export type FormAction = 'cordon' | 'uncordon' | 'drain' | 'label' | 'unlabel' | 'taint' | 'untaint';

/** What the operation form holds, as typed. */
export interface OperationFormState {
  action: FormAction;
  nodes: string[];
  /** Label or taint key. */
  key: string;
  /** Label or taint value (ignored by unlabel and untaint). */
  value: string;
  effect: TaintEffect;
  reason: string;
  /** Drain: per-node timeout (seconds, text as typed; empty = the server's default). */
  timeoutSeconds: string;
}

/** The form's problems, by field (`key`, `value`, `effect`, `reason`, `nodes`, `timeoutSeconds`, `form`). */
export type FormErrors = Partial<
  Record<'key' | 'value' | 'effect' | 'reason' | 'nodes' | 'timeoutSeconds' | 'form', string>
>;

/** The request the form describes (not yet validated). */
export function toRequest(form: OperationFormState): CreateOperationRequestInput {
  const base = {
    nodes: form.nodes,
    ...(form.reason.trim() ? { reason: form.reason.trim() } : {}),
  };
  const key = form.key.trim();
  const value = form.value.trim();
  switch (form.action) {
    case 'cordon':
    case 'uncordon':
      return { ...base, action: form.action, params: {} };
    case 'drain': {
      const timeout = form.timeoutSeconds.trim();
      return { ...base, action: 'drain', params: timeout ? { timeoutSeconds: Number(timeout) } : {} };
    }
    case 'label':
      return { ...base, action: 'label', params: { labels: { [key]: value } } };
    case 'unlabel':
      return { ...base, action: 'unlabel', params: { keys: [key] } };
    case 'taint':
      return {
        ...base,
        action: 'taint',
        params: { taints: [{ key, ...(value ? { value } : {}), effect: form.effect }] },
      };
    case 'untaint':
      return { ...base, action: 'untaint', params: { taints: [{ key, effect: form.effect }] } };
  }
}

function fieldOf(path: readonly PropertyKey[]): keyof FormErrors {
  const [first, second, third, fourth] = path.map(String);
  if (first === 'nodes') return 'nodes';
  if (first === 'reason') return 'reason';
  if (first !== 'params') return 'form';
  if (second === 'timeoutSeconds') return 'timeoutSeconds';
  if (second === 'keys') return 'key';
  // Keys and values were checked field by field first; what remains of params.labels is about the key.
  if (second === 'labels') return third === undefined ? 'key' : 'form';
  if (second === 'taints') return fourth === 'value' ? 'value' : fourth === 'effect' ? 'effect' : 'key';
  return 'form';
}

/**
 * Validates the form field by field with the Kubernetes rules (contracts'
 * kube-validation: key, value), then with the very schema the gateway applies
 * (`CreateOperationRequestSchema`: effect, reason, nodes, timeout), mapping each
 * problem to its field, so the form says what is wrong before anything is sent.
 * Empty object = valid.
 */
export function validateForm(form: OperationFormState): FormErrors {
  const errors: FormErrors = {};
  if (['label', 'unlabel', 'taint', 'untaint'].includes(form.action)) {
    const key = form.key.trim();
    const keyErrors = key === '' ? ['is required'] : qualifiedNameErrors(key);
    if (keyErrors.length > 0) errors.key = `key ${keyErrors.join('; ')}`;
  }
  if (form.action === 'label' || form.action === 'taint') {
    const valueErrors = labelValueErrors(form.value.trim());
    if (valueErrors.length > 0) errors.value = `value ${valueErrors.join('; ')}`;
  }
  if (
    form.action === 'drain' &&
    form.timeoutSeconds.trim() !== '' &&
    !/^\d+$/.test(form.timeoutSeconds.trim())
  ) {
    errors.timeoutSeconds = 'timeout must be a whole number of seconds';
  }
  if (form.nodes.length === 0) errors.nodes = 'select at least one node';
  if (Object.keys(errors).length > 0) return errors;
  const parsed = CreateOperationRequestSchema.safeParse(toRequest(form));
  if (parsed.success) return {};
  for (const issue of parsed.error.issues) {
    const field = fieldOf(issue.path);
    errors[field] ??= issue.message;
  }
  return errors;
}
