import { describe, expect, it } from 'vitest';
import { generateWorld } from '@knm/fake-cluster';
import { seededRandom } from '@knm/testing';
import { HttpListerWatcher } from './http/http-lister-watcher.js';
import { scanWatchLine } from './http/kube-json-scan.js';
import type { KubeHttpClient } from './http/kube-http-client.js';
import { JsonScanner } from './json-scanner.js';
import { podScan } from './pod-scan.js';
import { projectPod, type PodRecord } from './pod-record.js';

/*
 * The scan must give exactly what JSON.parse + projectPod give, on every text: the
 * same record, resourceVersion and event, or the same error. Compared on kube-sim's
 * pods and on generated ones, each written many ways (key order, escapes, unicode,
 * whitespace, duplicate keys, decoy keys of the same names deeper down, odd types).
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const fakeClient = (body: string): KubeHttpClient =>
  ({ getText: () => Promise.resolve(body) }) as unknown as KubeHttpClient;

function lw(scan: boolean, body = ''): HttpListerWatcher<PodRecord> {
  return new HttpListerWatcher<PodRecord>(fakeClient(body), {
    resource: 'pods',
    path: '/api/v1/pods',
    project: projectPod,
    ...(scan ? { scan: podScan() } : {}),
  });
}

/** What decoding a line gives: the event, or the error's class and message. */
function outcome(decode: () => unknown): unknown {
  try {
    return { ok: decode() };
  } catch (err) {
    return { error: (err as Error).constructor.name, message: (err as Error).message };
  }
}

const reference = lw(false);
const fastPath = podScan();
const scanned = lw(true);

function expectSameLine(line: string): void {
  expect(
    outcome(() => scanned.decodeEvent(line)),
    line,
  ).toEqual(outcome(() => reference.decodeEvent(line)));
}

async function expectSameList(body: string): Promise<void> {
  const signal = new AbortController().signal;
  const got = await lw(true, body)
    .list({ limit: 500 }, signal)
    .then((page) => ({ page }))
    .catch((err: Error) => ({ error: err.constructor.name, message: err.message }));
  const want = await lw(false, body)
    .list({ limit: 500 }, signal)
    .then((page) => ({ page }))
    .catch((err: Error) => ({ error: err.constructor.name, message: err.message }));
  expect(got).toEqual(want);
}

/** A JSON string literal of `text` with some characters \u-escaped (and the escapes JSON requires). */
function escapedString(text: string, random: () => number, rate: number): string {
  let out = '"';
  for (const ch of text) {
    const code = ch.codePointAt(0) as number;
    if (code < 0x10000 && random() < rate) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += JSON.stringify(ch).slice(1, -1);
  }
  return `${out}"`;
}

interface Style {
  shuffle: boolean;
  escapeRate: number;
  space: boolean;
  /** Keys written twice, the first with a decoy value (JSON.parse keeps the last). */
  duplicates: boolean;
}

/** `value` written in `style`: a valid JSON text that JSON.parse reads back as `value`. */
function write(value: Json, style: Style, random: () => number): string {
  const ws = (): string =>
    style.space && random() < 0.3 ? [' ', '\n', '\t', '\r\n  '][Math.floor(random() * 4)]! : '';
  if (value === null || typeof value !== 'object') {
    return typeof value === 'string' ? escapedString(value, random, style.escapeRate) : JSON.stringify(value);
  }
  if (Array.isArray(value))
    return `[${ws()}${value.map((v) => write(v, style, random)).join(`,${ws()}`)}${ws()}]`;
  const keys = Object.keys(value);
  if (style.shuffle) keys.sort(() => random() - 0.5);
  const members: string[] = [];
  for (const key of keys) {
    const text = `${ws()}${escapedString(key, random, style.escapeRate)}${ws()}:${ws()}`;
    if (style.duplicates && random() < 0.15) members.push(`${text}${write(decoy(random), style, random)}`);
    members.push(`${text}${write(value[key] as Json, style, random)}`);
  }
  return `{${members.join(',')}${ws()}}`;
}

/** A value standing where an interesting one will follow: objects with the same field names, other types. */
function decoy(random: () => number): Json {
  const options: Json[] = [
    { uid: 'decoy-uid', nodeName: 'decoy-node', phase: 'Running', resourceVersion: '1' },
    { containers: [{ name: 'decoy', resources: { requests: { cpu: '9' } } }] },
    null,
    'decoy',
    12,
    [],
  ];
  return options[Math.floor(random() * options.length)] as Json;
}

const QUANTITIES: Record<string, string[]> = {
  cpu: ['100m', '250m', '1', '2.5', '0', '1500m'],
  memory: ['128Mi', '1Gi', '64M', '0', '1e3', '12345'],
  'nvidia.com/gpu': ['1', '2'],
  'hugepages-2Mi': ['4Mi'],
  'ephemeral-storage': ['1Gi'],
};

function resourceList(random: () => number): Json {
  const out: Record<string, Json> = {};
  for (const [name, values] of Object.entries(QUANTITIES)) {
    if (random() < 0.4) out[name] = values[Math.floor(random() * values.length)] as string;
  }
  return out;
}

function resources(random: () => number): Json {
  const out: Record<string, Json> = {};
  if (random() < 0.8) out['requests'] = resourceList(random);
  if (random() < 0.5) out['limits'] = resourceList(random);
  return out;
}

const pick = <T>(random: () => number, values: readonly T[]): T =>
  values[Math.floor(random() * values.length)] as T;

/** A pod exercising every input of the totals: sidecars, init peaks, overhead, pod-level resources, resize. */
function generatedPod(random: () => number, i: number): Json {
  const container = (name: string, sidecar: boolean): Json => ({
    name,
    image: 'registry.k8s.io/app:1.0 "quoted" \u00e9\u4e2d\ud83d\ude00',
    resources: resources(random),
    ...(sidecar ? { restartPolicy: 'Always' } : {}),
    env: [{ name: 'nodeName', value: 'phase' }],
    // Same names as the fields the scan reads, where they mean nothing.
    uid: 'not-the-uid',
    metadata: { uid: 'nested' },
  });
  const names = ['a', 'b', 'c'].slice(0, 1 + Math.floor(random() * 3));
  const spec: Record<string, Json> = {
    containers: names.map((n) => container(n, false)),
    restartPolicy: 'Always',
    nodeName: pick(random, ['node-1', 'node-2', '', 'n\u00f6de-3', 'node "4"']),
  };
  if (random() < 0.3) spec['initContainers'] = ['i1', 'i2'].map((n) => container(n, random() < 0.5));
  if (random() < 0.2) spec['overhead'] = resourceList(random);
  if (random() < 0.2) spec['resources'] = resources(random);
  if (random() < 0.1) delete spec['nodeName'];
  const status: Record<string, Json> = {
    phase: pick(random, ['Running', 'Pending', 'Succeeded', 'Failed', 'Unknown', '']),
    conditions: [{ type: 'Ready', status: 'True', lastProbeTime: null }],
  };
  if (random() < 0.3) {
    status['containerStatuses'] = names.map((n) => ({
      name: n,
      ready: true,
      restartCount: 3,
      ...(random() < 0.6 ? { allocatedResources: resourceList(random) } : {}),
      ...(random() < 0.4 ? { resources: resources(random) } : {}),
    }));
  }
  if (random() < 0.15) {
    (status['conditions'] as Json[]).push({
      type: 'PodResizePending',
      reason: pick(random, ['Infeasible', 'Deferred']),
    });
  }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `pod-${i}`,
      uid: pick(random, [
        `0c3f${i.toString(16).padStart(4, '0')}-1111-4222-8333-444455556666`,
        `UID-${i}`,
        '',
      ]),
      resourceVersion: String(1000 + i),
      labels: { uid: 'label', nodeName: 'x', phase: 'y' },
      annotations: {
        'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({ spec: { nodeName: 'z' } }),
      },
    },
    spec,
    status,
  };
}

const kubeSimPods = [1, 2].flatMap(
  (seed) =>
    generateWorld({ nodes: 12, pods: 300, seed, clusterName: 'scan', now: new Date(0) }).pods as Json[],
);

const STYLES: Style[] = [
  { shuffle: false, escapeRate: 0, space: false, duplicates: false },
  { shuffle: true, escapeRate: 0, space: false, duplicates: false },
  { shuffle: false, escapeRate: 0.1, space: false, duplicates: false },
  { shuffle: true, escapeRate: 0.02, space: true, duplicates: false },
  { shuffle: true, escapeRate: 0.05, space: false, duplicates: true },
];

describe('podScan: exactly JSON.parse + projectPod', () => {
  it("on kube-sim's pods, in watch lines written every way", () => {
    const random = seededRandom(1);
    let counted = 0;
    for (const pod of kubeSimPods) {
      const type = pick(random, ['ADDED', 'MODIFIED', 'DELETED']);
      for (const style of STYLES) {
        const line = write({ type, object: pod }, style, random);
        expectSameLine(line);
        // Decided by the scan itself, not by the JSON.parse it falls back to.
        if (!style.duplicates) expect(() => scanWatchLine(line, fastPath)).not.toThrow();
      }
      if (projectPod(pod).resources) counted += 1;
    }
    expect(counted).toBeGreaterThan(0);
  });

  it('on generated pods covering every input of the resource totals', () => {
    for (let seed = 1; seed <= 6; seed++) {
      const random = seededRandom(seed);
      for (let i = 0; i < 250; i++) {
        const pod = generatedPod(random, i);
        for (const style of STYLES) expectSameLine(write({ object: pod, type: 'MODIFIED' }, style, random));
      }
    }
  });

  it('on list pages, items and metadata in any order, continue or not', async () => {
    const random = seededRandom(7);
    for (let page = 0; page < 12; page++) {
      const items = Array.from({ length: 20 }, (_, i) =>
        i % 2 ? generatedPod(random, i) : (kubeSimPods[page * 20 + i] as Json),
      );
      const metadata: Record<string, Json> = { resourceVersion: `rv-${page}-0123456789` };
      if (page % 3) metadata['continue'] = `token-${page}`;
      if (page === 5) metadata['continue'] = '';
      await expectSameList(
        write({ kind: 'PodList', apiVersion: 'v1', metadata, items }, STYLES[page % 5]!, random),
      );
    }
    await expectSameList('{"kind":"PodList","items":[]}');
    await expectSameList('{"items":null,"metadata":null}');
    await expectSameList('{"items":[null]}');
    await expectSameList('{"items":{}}');
    await expectSameList('{"metadata":{"resourceVersion":7},"items":[]}');
    await expectSameList('[]');
    await expectSameList('{"items":[{"metadata":{"uid":"a"}},]}');
  });

  it('on odd shapes and on what is not a pod event', () => {
    const lines = [
      '{"type":"ADDED","object":{"metadata":null,"spec":null,"status":null}}',
      '{"type":"ADDED","object":{}}',
      '{"type":"ADDED"}',
      '{"object":{"metadata":{"uid":"x"}}}',
      '{"type":"ADDED","object":null}',
      '{"type":"ADDED","object":[]}',
      '{"type":"ADDED","object":{"metadata":{"uid":5,"resourceVersion":6}}}',
      '{"type":"ADDED","object":{"metadata":{"uid":"u","resourceVersion":"9"},"spec":{"nodeName":7}}}',
      '{"type":"ADDED","object":{"metadata":{"uid":"u"},"spec":{"nodeName":"n"},"status":{"phase":["Running"]}}}',
      '{"type":"ADDED","object":{"spec":{"nodeName":"n","containers":null},"status":{"conditions":null}}}',
      '{"type":"ADDED","object":{"spec":{"nodeName":"n","containers":[null]}}}',
      '{"type":"ADDED","object":{"spec":{"nodeName":"n","containers":"abc"}}}',
      '{"type":"ADDED","object":{"spec":{"nodeName":"n","containers":[{"resources":{"requests":{"cpu":5}}}]}}}',
      '{"type":"ADDED","object":{"spec":{"nodeName":"n"},"status":{"containerStatuses":[null,1,"resources"]}}}',
      '{"type":"ADDED","object":{"spec":{"nodeName":"n"},"status":{"containerStatuses":7}}}',
      '{"type":"ADDED","object":{"spec":{"nodeName":"n"},"status":{"conditions":[null,{"type":"PodResizePending","reason":"Infeasible"}]}}}',
      '{"type":"ADDED","object":{"spec":{"nodeName":"n","containers":[{"resources":{"requests":{"cpu":"1"}}}]},"status":{"conditions":[{"type":"PodResize\\u0050ending","reason":"Infeasible"}]}}}',
      '{"type":"ADDED","object":{"spec":{"nodeName":"a"},"spec":{"containers":[]}}}',
      '{"type":"ADDED","type":"BOOKMARK","object":{"metadata":{"resourceVersion":"5","annotations":{"k8s.io/initial-events-end":"true"}}}}',
      '{"type":"BOOKMARK","object":{"kind":"Pod","metadata":{"resourceVersion":"12"}}}',
      '{"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old"}}',
      '{"type":"SOMETHING","object":{}}',
      '{"type":"ADDED","object":{"metadata":{"__proto__":{"uid":"p"},"uid":"u"},"spec":{"nodeName":"n"}}}',
    ];
    for (const line of lines) expectSameLine(line);
  });

  it('on text that is not JSON: the same error', () => {
    const good = JSON.stringify({ type: 'ADDED', object: kubeSimPods[0] });
    const random = seededRandom(11);
    const broken = [
      good.slice(0, -1),
      `${good}}`,
      `${good},`,
      good.replace('"spec":', '"spec"'),
      good.replace('"spec":{', '"spec":{,'),
      good.replace(':true', ':tru'),
      good.replace(':null', ':nul'),
      good.replace('"Running"', '"Run\\xning"'),
      good.replace('"Running"', '"Run\\u00zzning"'),
      good.replace(/:(\d+)/, ':0$1'),
      good.replace(/:(\d+)/, ':-'),
      good.replace(/:(\d+)/, ':$1.'),
      good.replace(/:(\d+)/, ':$1e'),
      good.replace(/:(\d+)/, ':+$1'),
      good.replace('}]', ',}]'),
      good.replace('[', '[,'),
      `\ufeff${good}`,
      '',
      '{',
      '[',
      '"',
      '{"type":"ADDED","object":' + '['.repeat(100) + ']'.repeat(100) + '}',
    ];
    for (let i = 0; i < 300; i++) {
      const at = Math.floor(random() * good.length);
      const cut =
        good.slice(0, at) + pick(random, ['', ',', '}', ']', '"', ':', 'x', '\\']) + good.slice(at + 1);
      broken.push(cut);
    }
    for (const line of broken) expectSameLine(line);
  });
});

describe('JsonScanner accepts what JSON.parse accepts', () => {
  it('on random texts and their corruptions', () => {
    const random = seededRandom(21);
    const scanner = new JsonScanner();
    const accepts = (text: string): boolean => {
      try {
        scanner.reset(text);
        scanner.skipValue();
        scanner.finish();
        return true;
      } catch {
        return false;
      }
    };
    const parses = (text: string): boolean => {
      try {
        JSON.parse(text);
        return true;
      } catch {
        return false;
      }
    };
    const atoms = [
      '0',
      '-0',
      '1.5',
      '-2e10',
      '3E-2',
      '1e+2',
      'true',
      'false',
      'null',
      '""',
      '"a\\"b"',
      '"\\u00e9\\n"',
    ];
    const value = (depth: number): string => {
      const r = random();
      if (depth > 4 || r < 0.4) return pick(random, atoms);
      if (r < 0.7)
        return `[${Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1)).join(',')}]`;
      return `{${Array.from({ length: Math.floor(random() * 4) }, (_, i) => `"k${i}":${value(depth + 1)}`).join(',')}}`;
    };
    // Raw control characters are left out: the one leniency the scanner documents.
    const noise = ['', ',', '}', ']', '{', '[', '"', ':', '\\', '.', '-', 'e', '0', '1', ' ', 't', 'n', 'u'];
    for (let i = 0; i < 3000; i++) {
      let text = value(0);
      if (random() < 0.6) {
        const at = Math.floor(random() * (text.length + 1));
        text = text.slice(0, at) + pick(random, noise) + text.slice(at + (random() < 0.5 ? 1 : 0));
      }
      expect(accepts(text), text).toBe(parses(text));
    }
  });
});
