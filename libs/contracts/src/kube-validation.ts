/**
 * Kubernetes naming rules (apimachinery `validation` package), as pure checks that
 * return the list of problems (empty when valid), worded like the API server's.
 */

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** DNS-1123 label: lowercase alphanumerics and '-', starting and ending alphanumeric, at most 63. */
export function dns1123LabelErrors(value: string): string[] {
  const errors: string[] = [];
  if (value.length === 0) errors.push('must not be empty');
  if (value.length > 63) errors.push('must be no more than 63 characters');
  if (value.length > 0 && !DNS1123_LABEL.test(value)) {
    errors.push(
      "must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
    );
  }
  return errors;
}

/** DNS-1123 subdomain (node names): labels joined by '.', at most 253. */
export function dns1123SubdomainErrors(value: string): string[] {
  const errors: string[] = [];
  if (value.length === 0) errors.push('must not be empty');
  if (value.length > 253) errors.push('must be no more than 253 characters');
  if (value.length > 0 && !DNS1123_SUBDOMAIN.test(value)) {
    errors.push(
      "must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
    );
  }
  return errors;
}

/** A label or annotation key, or a taint key: `[prefix/]name`, prefix a DNS subdomain, name at most 63. */
export function qualifiedNameErrors(value: string): string[] {
  const parts = value.split('/');
  if (parts.length > 2) return ["a qualified name must have at most one '/'"];
  const [prefix, name] = parts.length === 2 ? [parts[0] ?? '', parts[1] ?? ''] : [undefined, parts[0] ?? ''];
  const errors: string[] = [];
  if (prefix !== undefined) {
    if (prefix.length === 0) errors.push('prefix part must not be empty');
    else errors.push(...dns1123SubdomainErrors(prefix).map((e) => `prefix part ${e}`));
  }
  if (name.length === 0) errors.push('name part must not be empty');
  else if (name.length > 63) errors.push('name part must be no more than 63 characters');
  else if (!QUALIFIED_NAME_PART.test(name)) {
    errors.push(
      "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
    );
  }
  return errors;
}

/** A label value: empty, or at most 63 of alphanumerics, '-', '_', '.', starting and ending alphanumeric. */
export function labelValueErrors(value: string): string[] {
  const errors: string[] = [];
  if (value.length > 63) errors.push('must be no more than 63 characters');
  if (!LABEL_VALUE.test(value)) {
    errors.push(
      "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
    );
  }
  return errors;
}

/** The three taint effects the API server accepts. */
export const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const;
export type TaintEffect = (typeof TAINT_EFFECTS)[number];
