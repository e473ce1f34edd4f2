import { describe, expect, it } from 'vitest';
import { ApiStatusError } from './api-status.js';
import {
  matchesFieldSelector,
  NODE_FIELDS,
  nodeFieldSet,
  parseFieldSelector,
  POD_FIELDS,
  podFieldSet,
  type FieldRequirement,
} from './field-selector.js';
import type { KubeObject } from './kube-object.js';

const meta = { uid: 'u', resourceVersion: '1', creationTimestamp: '2026-01-01T00:00:00Z' };
const node = (name: string, unschedulable?: boolean): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { ...meta, name },
  spec: unschedulable === undefined ? {} : { unschedulable },
});
const pod = (name: string, nodeName: string | undefined, phase: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { ...meta, name, namespace: 'default' },
  spec: nodeName === undefined ? {} : { nodeName },
  status: { phase },
});

describe('parseFieldSelector', () => {
  it.each<[string, FieldRequirement[]]>([
    ['', []],
    ['spec.nodeName=n1', [{ field: 'spec.nodeName', operator: '=', value: 'n1' }]],
    ['spec.nodeName==n1', [{ field: 'spec.nodeName', operator: '=', value: 'n1' }]],
    ['spec.nodeName!=n1', [{ field: 'spec.nodeName', operator: '!=', value: 'n1' }]],
    ['spec.nodeName=', [{ field: 'spec.nodeName', operator: '=', value: '' }]],
    [
      'status.phase!=Succeeded,spec.nodeName=n1',
      [
        { field: 'spec.nodeName', operator: '=', value: 'n1' },
        { field: 'status.phase', operator: '!=', value: 'Succeeded' },
      ],
    ],
    ['metadata.name=a\\,b\\=c\\\\d', [{ field: 'metadata.name', operator: '=', value: 'a,b=c\\d' }]],
    ['metadata.name=a,', [{ field: 'metadata.name', operator: '=', value: 'a' }]],
  ])('parses %j', (text, requirements) => {
    expect(parseFieldSelector(text, POD_FIELDS, 'pods').requirements).toEqual(requirements);
  });

  it.each<[string, string]>([
    ['foo=bar', 'field label not supported: foo'],
    ['spec.nodeName', "invalid selector: 'spec.nodeName'; can't understand 'spec.nodeName'"],
    ['metadata.name=a=b', 'invalid field selector: unescaped character in value: ='],
    ['metadata.name=a\\x', 'invalid field selector: invalid escape sequence: \\x'],
  ])('rejects %j with 400 %j', (text, message) => {
    let caught: unknown;
    try {
      parseFieldSelector(text, POD_FIELDS, 'pods');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ApiStatusError);
    expect((caught as ApiStatusError).code).toBe(400);
    expect((caught as ApiStatusError).message).toBe(message);
  });

  it('knows node fields apart from pod fields', () => {
    expect(() => parseFieldSelector('spec.nodeName=x', NODE_FIELDS, 'nodes')).toThrow(
      'field label not supported: spec.nodeName',
    );
    expect(parseFieldSelector('spec.unschedulable=true', NODE_FIELDS, 'nodes').requirements).toHaveLength(1);
  });
});

describe('matchesFieldSelector', () => {
  const pods = [pod('a', 'n1', 'Running'), pod('b', 'n2', 'Succeeded'), pod('c', undefined, 'Pending')];
  it.each<[string, string[]]>([
    ['', ['a', 'b', 'c']],
    ['spec.nodeName=n1', ['a']],
    ['spec.nodeName!=n1', ['b', 'c']],
    ['spec.nodeName=', ['c']],
    ['spec.nodeName!=', ['a', 'b']],
    ['status.phase!=Succeeded,status.phase!=Failed', ['a', 'c']],
    ['spec.nodeName=n2,status.phase=Running', []],
    ['metadata.namespace=default,metadata.name=b', ['b']],
  ])('pods matching %j are %j', (text, names) => {
    const selector = parseFieldSelector(text, POD_FIELDS, 'pods');
    expect(
      pods.filter((p) => matchesFieldSelector(selector, podFieldSet(p))).map((p) => p.metadata.name),
    ).toEqual(names);
  });

  it.each<[string, string[]]>([
    ['spec.unschedulable=true', ['cordoned']],
    ['spec.unschedulable=false', ['plain', 'uncordoned']],
    ['spec.unschedulable!=true,metadata.name!=plain', ['uncordoned']],
  ])('nodes matching %j are %j', (text, names) => {
    const nodes = [node('plain'), node('cordoned', true), node('uncordoned', false)];
    const selector = parseFieldSelector(text, NODE_FIELDS, 'nodes');
    expect(
      nodes.filter((n) => matchesFieldSelector(selector, nodeFieldSet(n))).map((n) => n.metadata.name),
    ).toEqual(names);
  });
});
