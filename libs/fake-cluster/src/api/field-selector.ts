/**
 * Field selectors (`spec.nodeName=n1,status.phase!=Succeeded`), parsed like
 * apimachinery `fields.ParseSelector` (backslash escapes, `=`/`==`/`!=`, comma = AND)
 * and checked against the fields each resource supports, like the API server's
 * field label conversion.
 */
import { statusErrors } from './api-status.js';
import type { KubeObject } from './kube-object.js';

/** One `field op value` term; `==` parses as `=`. */
export interface FieldRequirement {
  field: string;
  operator: '=' | '!=';
  value: string;
}

/** The AND of its requirements (sorted like upstream); no requirements selects everything. */
export interface FieldSelector {
  requirements: FieldRequirement[];
}

/** The field labels the API server supports for nodes. */
export const NODE_FIELDS: readonly string[] = ['metadata.name', 'spec.unschedulable'];

/** The field labels kube-sim supports for pods (the ones kubectl and the watcher use). */
export const POD_FIELDS: readonly string[] = [
  'metadata.name',
  'metadata.namespace',
  'spec.nodeName',
  'status.phase',
];

/** The field labels the API server supports for core/v1 events (what `kubectl describe` selects on). */
export const EVENT_FIELDS: readonly string[] = [
  'metadata.name',
  'metadata.namespace',
  'involvedObject.kind',
  'involvedObject.namespace',
  'involvedObject.name',
  'involvedObject.uid',
  'involvedObject.apiVersion',
  'involvedObject.resourceVersion',
  'involvedObject.fieldPath',
  'reason',
  'reportingComponent',
  'source',
  'type',
];

/** Splits on commas that are not escaped, keeping escapes for the value decoder. */
function splitTerms(text: string): string[] {
  const terms: string[] = [];
  let start = 0;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charAt(i);
    if (escaped) escaped = false;
    else if (ch === '\\') escaped = true;
    else if (ch === ',') {
      terms.push(text.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(text.slice(start));
  return terms;
}

/** The first operator in the term, trying `!=`, then `==`, then `=` at each position, as upstream. */
function splitTerm(term: string): { lhs: string; operator: '=' | '!='; rhs: string } | undefined {
  for (let i = 0; i < term.length; i++) {
    const rest = term.slice(i);
    if (rest.startsWith('!=')) return { lhs: term.slice(0, i), operator: '!=', rhs: term.slice(i + 2) };
    if (rest.startsWith('==')) return { lhs: term.slice(0, i), operator: '=', rhs: term.slice(i + 2) };
    if (rest.startsWith('=')) return { lhs: term.slice(0, i), operator: '=', rhs: term.slice(i + 1) };
  }
  return undefined;
}

/** fields.UnescapeValue: `\\`, `\,` and `\=` are escapes; any other escape or a bare `,`/`=` is an error. */
function unescapeValue(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value.charAt(i);
    if (ch === '\\') {
      const next = value.charAt(i + 1);
      if (next !== '\\' && next !== ',' && next !== '=') {
        throw statusErrors.badRequest(`invalid field selector: invalid escape sequence: \\${next}`);
      }
      out += next;
      i++;
    } else if (ch === ',' || ch === '=') {
      throw statusErrors.badRequest(`invalid field selector: unescaped character in value: ${ch}`);
    } else {
      out += ch;
    }
  }
  return out;
}

/**
 * Parses a field selector and checks every field against `supportedFields`.
 * Throws an ApiStatusError 400 BadRequest worded like the API server
 * (`field label not supported: foo`, `invalid selector: 'x'; can't understand 'x'`).
 * `resource` (e.g. `pods`) names what is being listed, for callers' logs.
 */
export function parseFieldSelector(
  text: string,
  supportedFields: readonly string[],
  _resource: string,
): FieldSelector {
  const requirements: FieldRequirement[] = [];
  for (const term of splitTerms(text).sort()) {
    if (term === '') continue;
    const parts = splitTerm(term);
    if (parts === undefined)
      throw statusErrors.badRequest(`invalid selector: '${text}'; can't understand '${term}'`);
    const value = unescapeValue(parts.rhs);
    if (!supportedFields.includes(parts.lhs))
      throw statusErrors.badRequest(`field label not supported: ${parts.lhs}`);
    requirements.push({ field: parts.lhs, operator: parts.operator, value });
  }
  return { requirements };
}

/** Whether `fields` (from {@link nodeFieldSet}/{@link podFieldSet}) satisfy every requirement. A missing field reads as "". */
export function matchesFieldSelector(
  selector: FieldSelector,
  fields: Readonly<Record<string, string>>,
): boolean {
  for (const { field, operator, value } of selector.requirements) {
    const actual = Object.hasOwn(fields, field) ? fields[field] : '';
    if (operator === '=' ? actual !== value : actual === value) return false;
  }
  return true;
}

/** The field set of a node: `metadata.name`, `spec.unschedulable` ("true"/"false"). */
export function nodeFieldSet(node: KubeObject): Record<string, string> {
  return {
    'metadata.name': node.metadata.name,
    'spec.unschedulable': node.spec?.['unschedulable'] === true ? 'true' : 'false',
  };
}

/** The field set of a pod; a pod not yet scheduled has `spec.nodeName` "" (so `spec.nodeName=` finds Pending pods). */
export function podFieldSet(pod: KubeObject): Record<string, string> {
  const nodeName = pod.spec?.['nodeName'];
  const phase = pod.status?.['phase'];
  return {
    'metadata.name': pod.metadata.name,
    'metadata.namespace': pod.metadata.namespace ?? '',
    'spec.nodeName': typeof nodeName === 'string' ? nodeName : '',
    'status.phase': typeof phase === 'string' ? phase : '',
  };
}

/** The field set of a core/v1 event: its involved object, reason, source component and type. */
export function eventFieldSet(event: KubeObject): Record<string, string> {
  const involved = event['involvedObject'];
  const about = typeof involved === 'object' && involved !== null && !Array.isArray(involved) ? involved : {};
  const text = (value: unknown) => (typeof value === 'string' ? value : '');
  const source = event['source'];
  const component =
    typeof source === 'object' && source !== null && !Array.isArray(source) ? text(source['component']) : '';
  return {
    'metadata.name': event.metadata.name,
    'metadata.namespace': event.metadata.namespace ?? '',
    'involvedObject.kind': text(about['kind']),
    'involvedObject.namespace': text(about['namespace']),
    'involvedObject.name': text(about['name']),
    'involvedObject.uid': text(about['uid']),
    'involvedObject.apiVersion': text(about['apiVersion']),
    'involvedObject.resourceVersion': text(about['resourceVersion']),
    'involvedObject.fieldPath': text(about['fieldPath']),
    reason: text(event['reason']),
    reportingComponent: text(event['reportingComponent']),
    source: component,
    type: text(event['type']),
  };
}
