import { describe, expect, it } from 'vitest';
import { EnvelopeSchema, toClusterName, type NodeSnapshot } from '@knm/contracts';
import {
  clusterStatusParts,
  envelopeBody,
  nodeDeleteBody,
  nodeEnvelopeParts,
  podCountKey,
  podCountsParts,
  resyncBody,
  spliceSeq,
} from './envelope-json.js';

const cluster = toClusterName('prod-eu');
const ts = '2026-11-22T10:00:00.000Z';
const node: NodeSnapshot = {
  name: 'worker/1',
  uid: 'u1',
  resourceVersion: '7',
  creationTimestamp: ts,
  labels: { 'a/b': 'c"d' },
  annotations: {},
  taints: [],
  unschedulable: false,
  roles: [],
  ready: 'True',
  conditions: [],
  addresses: [],
  capacity: {},
  allocatable: {},
  nodeInfo: {
    kubeletVersion: 'v1.33.0',
    osImage: 'x',
    kernelVersion: 'x',
    containerRuntimeVersion: 'x',
    architecture: 'amd64',
    operatingSystem: 'linux',
  },
  podCIDRs: [],
};

/** What the Lua scripts do with parts: head + inserted + tail, then the seq in front. */
const parse = (body: string, seq: number): unknown => EnvelopeSchema.parse(JSON.parse(spliceSeq(body, seq)));

describe('envelope JSON builders', () => {
  it('node_add: head + snapshot + tail is a valid envelope that keeps empty arrays as arrays', () => {
    const { head, tail } = nodeEnvelopeParts({ type: 'node_add', cluster, node: node.name, timestamp: ts });
    const body = head + JSON.stringify(node) + tail;
    expect(parse(body, 1)).toEqual({
      seq: 1,
      type: 'node_add',
      cluster,
      node: 'worker/1',
      data: node,
      timestamp: ts,
    });
    expect(spliceSeq(body, 1)).toContain('"taints":[]');
  });

  it('node_update carries its changes', () => {
    const { head, tail } = nodeEnvelopeParts({
      type: 'node_update',
      cluster,
      node: node.name,
      changes: ['labels', 'taints'],
      timestamp: ts,
    });
    expect(parse(head + JSON.stringify(node) + tail, 42)).toEqual({
      seq: 42,
      type: 'node_update',
      cluster,
      node: 'worker/1',
      changes: ['labels', 'taints'],
      data: node,
      timestamp: ts,
    });
  });

  it('node_delete and resync bodies', () => {
    expect(parse(nodeDeleteBody(cluster, 'n"1', 'u9', ts), 3)).toEqual({
      seq: 3,
      type: 'node_delete',
      cluster,
      node: 'n"1',
      data: { uid: 'u9' },
      timestamp: ts,
    });
    expect(parse(resyncBody(cluster, 'rebuild', 4, ts), 9)).toEqual({
      seq: 9,
      type: 'resync',
      cluster,
      data: { reason: 'rebuild', epoch: 4 },
      timestamp: ts,
    });
  });

  it('pod_counts: entries joined between head and tail, names JSON-quoted', () => {
    const { head, tail } = podCountsParts(cluster, ts);
    const entries = [`${podCountKey('a')}:3`, `${podCountKey('b"\\x')}:0`].join(',');
    expect(parse(head + entries + tail, 5)).toEqual({
      seq: 5,
      type: 'pod_counts',
      cluster,
      timestamp: ts,
      data: { counts: { a: 3, 'b"\\x': 0 } },
    });
  });

  it('cluster_status: the script may append totals between head and tail', () => {
    const { head, tail } = clusterStatusParts({
      cluster,
      status: 'degraded',
      error: 'dial "x": refused',
      leader: 'h/1',
      timestamp: ts,
    });
    expect(
      parse(head + ',"nodeCount":3,"podCount":10,"syncedAt":"2026-11-22T09:00:00.000Z"' + tail, 6),
    ).toEqual({
      seq: 6,
      type: 'cluster_status',
      cluster,
      timestamp: ts,
      data: {
        status: 'degraded',
        error: 'dial "x": refused',
        leader: 'h/1',
        nodeCount: 3,
        podCount: 10,
        syncedAt: '2026-11-22T09:00:00.000Z',
      },
    });
    const ready = clusterStatusParts({ cluster, status: 'ready', leader: 'h/1', timestamp: ts });
    expect(parse(ready.head + ready.tail, 7)).toMatchObject({ data: { status: 'ready', leader: 'h/1' } });
    expect(ready.head).not.toContain('error');
  });

  it('envelopeBody drops only the opening brace', () => {
    const body = envelopeBody({
      type: 'resync',
      cluster,
      data: { reason: 'rebuild', epoch: 1 },
      timestamp: ts,
    });
    expect(body.startsWith('"type":"resync"')).toBe(true);
    expect(spliceSeq(body, 1)).toBe(
      `{"seq":1,"type":"resync","cluster":"prod-eu","data":{"reason":"rebuild","epoch":1},"timestamp":"${ts}"}`,
    );
  });
});
