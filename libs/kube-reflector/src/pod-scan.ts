import { podResourceTotals, type PodResourceTotals } from '@knm/contracts';
import { detach, fallback, type JsonScanner } from './json-scanner.js';
import { podCounts, type PodRecord } from './pod-record.js';

/** An object projected straight from its JSON text, with its `metadata.resourceVersion` ('' when absent). */
export interface ScannedObject<T> {
  object: T;
  resourceVersion: string;
}

/**
 * Projects the object a {@link JsonScanner} is on without building it; throws
 * `ScanFallback` for anything it leaves to `JSON.parse` and the ordinary projection.
 * Must give exactly what that projection gives on every input it does not leave.
 */
export type ObjectScan<T> = (scanner: JsonScanner) => ScannedObject<T>;

/**
 * The parts of a pod `podResourceTotals` reads (`spec.containers[].{name,
 * restartPolicy, resources}`, `spec.{initContainers, overhead, resources}`,
 * `status.{containerStatuses, initContainerStatuses}[].{name, allocatedResources,
 * resources}`, `status.conditions[].{type, reason}`), each value `JSON.parse`d from
 * its own text, so the totals come out exactly as from the whole pod.
 */
type Part = Record<string, unknown>;

interface Metadata {
  uid: string | undefined;
  resourceVersion: string | undefined;
}

/**
 * The spec's parts `podResourceTotals` reads, as JSON text parsed only when needed:
 * `overhead` and `resources` as sent, the container lists reduced ({@link reducedListTexts}).
 */
const SPEC_PARTS = ['containers', 'initContainers', 'overhead', 'resources'] as const;
type SpecPart = (typeof SPEC_PARTS)[number];

interface Spec {
  nodeName: string | undefined;
  texts: Partial<Record<SpecPart, string>>;
  /**
   * The container lists' texts without `name`: names only pair containers with their
   * statuses, which the cached totals never read, and a workload's container is often
   * named after it, so keying by them would keep one entry per workload.
   */
  unnamed: Partial<Record<'containers' | 'initContainers', string>>;
}

interface Status {
  phase: string | undefined;
  /** What `podResourceTotals` reads of `status`. */
  part: Part;
}

const CONTAINER_KEYS = ['name', 'restartPolicy', 'resources'] as const;
const CONTAINER_STATUS_KEYS = ['name', 'allocatedResources', 'resources'] as const;
const CONDITION_KEYS = ['type', 'reason'] as const;

/** The same uid or node name, arriving as slices of many watch lines and list pages, copied once. */
const INTERN_LIMIT = 65_536;

/**
 * The scan of a Pod into a {@link PodRecord}: exactly `projectPod(JSON.parse(text))`
 * for every pod it accepts, reading only `metadata.{uid, resourceVersion}`,
 * `spec.nodeName`, `status.phase` and, for a pod that counts, the parts its
 * resources come from; every other value is skipped unbuilt. Odd shapes (a field of
 * another type than the API's, `null` items, invalid JSON) fall back.
 *
 * Strings it keeps are detached from the text they were sliced from (a slice would
 * keep a whole list page alive): node names through a small intern table (a cluster
 * has few), uids copied.
 */
export function podScan(): ObjectScan<PodRecord> {
  const nodeNames = new Map<string, string>();
  const internNode = (name: string): string => {
    let kept = nodeNames.get(name);
    if (kept === undefined) {
      if (nodeNames.size >= INTERN_LIMIT) nodeNames.clear();
      kept = detach(name);
      nodeNames.set(kept, kept);
    }
    return kept;
  };
  const byPartsText = new Map<string, PodResourceTotals>();
  return (s) => {
    let metadata: Metadata | undefined;
    let spec: Spec | undefined;
    let status: Status | undefined;
    s.enterObject();
    while (s.nextKey()) {
      if (s.keyIs('metadata')) metadata = scanMetadata(s);
      else if (s.keyIs('spec')) spec = scanSpec(s);
      else if (s.keyIs('status')) status = scanStatus(s);
      else s.skipValue();
    }
    const nodeName = spec?.nodeName;
    const phase = status?.phase;
    const record: PodRecord = {
      uid: metadata?.uid === undefined ? '' : detach(metadata.uid),
      nodeName: nodeName === undefined || nodeName === '' ? undefined : internNode(nodeName),
      phase: phase === undefined || phase === '' ? undefined : phase,
    };
    if (podCounts(record)) record.resources = totals(spec, status);
    return { object: record, resourceVersion: metadata?.resourceVersion ?? '' };
  };

  /**
   * `podResourceTotals` of the parts read. When the status lists read as empty (no
   * resources reported, no pending resize: most pods) the totals are a function of
   * the spec's parts alone, so they are kept per spec text: the pods of a workload
   * share one (read-only, frozen) and skip both the parse and the arithmetic.
   */
  function totals(spec: Spec | undefined, status: Status | undefined): PodResourceTotals {
    const raw: Part = {};
    if (status) raw['status'] = status.part;
    const cacheable =
      !status || Object.values(status.part).every((v) => v === null || (Array.isArray(v) && v.length === 0));
    const key = cacheable
      ? SPEC_PARTS.map(
          (k) => (k === 'containers' || k === 'initContainers' ? spec?.unnamed[k] : spec?.texts[k]) ?? '',
        ).join('\u0000')
      : undefined;
    if (key !== undefined) {
      const known = byPartsText.get(key);
      if (known) return known;
    }
    if (spec) raw['spec'] = specPart(spec);
    const computed = podResourceTotals(raw);
    if (key === undefined) return computed;
    Object.freeze(computed.requests);
    Object.freeze(computed.limits);
    if (byPartsText.size >= TOTALS_LIMIT) byPartsText.clear();
    byPartsText.set(key, Object.freeze(computed));
    return computed;
  }
}

/** Distinct spec texts whose totals are kept; a cluster has far fewer pod templates. */
const TOTALS_LIMIT = 4_096;

/** The spec's parts parsed from their texts. */
function specPart(spec: Spec): Part {
  const part: Part = {};
  for (const key of SPEC_PARTS) {
    const text = spec.texts[key];
    if (text !== undefined) part[key] = JSON.parse(text) as unknown;
  }
  return part;
}

/** An object the API always sends as one (`null` reads as absent, as `?.` does); anything else falls back. */
function enterOrNull(s: JsonScanner): boolean {
  if (s.takeNull()) return false;
  s.enterObject();
  return true;
}

function scanMetadata(s: JsonScanner): Metadata | undefined {
  const metadata: Metadata = { uid: undefined, resourceVersion: undefined };
  if (!enterOrNull(s)) return undefined;
  while (s.nextKey()) {
    if (s.keyIs('uid')) metadata.uid = s.readString();
    else if (s.keyIs('resourceVersion')) metadata.resourceVersion = s.readString();
    else s.skipValue();
  }
  return metadata;
}

function scanSpec(s: JsonScanner): Spec | undefined {
  const spec: Spec = { nodeName: undefined, texts: {}, unnamed: {} };
  if (!enterOrNull(s)) return undefined;
  while (s.nextKey()) {
    if (s.keyIs('nodeName')) {
      spec.nodeName = s.readString();
      continue;
    }
    const part = SPEC_PARTS.find((k) => s.keyIs(k));
    if (part === 'containers' || part === 'initContainers') {
      const [named, unnamed] = reducedListTexts(s, CONTAINER_KEYS);
      spec.texts[part] = named;
      spec.unnamed[part] = unnamed;
    } else if (part === undefined) s.skipValue();
    else spec.texts[part] = s.source.slice(s.skipValue(), s.pos);
  }
  return spec;
}

function scanStatus(s: JsonScanner): Status | undefined {
  const status: Status = { phase: undefined, part: {} };
  if (!enterOrNull(s)) return undefined;
  while (s.nextKey()) {
    if (s.keyIs('phase')) status.phase = s.readString();
    else if (s.keyIs('containerStatuses'))
      status.part['containerStatuses'] = scanListOf(s, CONTAINER_STATUS_KEYS, REPORTED_RESOURCES);
    else if (s.keyIs('initContainerStatuses'))
      status.part['initContainerStatuses'] = scanListOf(s, CONTAINER_STATUS_KEYS, REPORTED_RESOURCES);
    else if (s.keyIs('conditions')) status.part['conditions'] = scanListOf(s, CONDITION_KEYS, RESIZE_PENDING);
    else s.skipValue();
  }
  return status;
}

/**
 * The JSON texts of a list of objects reduced to `keys` (each value's text as sent),
 * with and without `name`:
 * what `JSON.parse` of the whole list would give of those keys (the last of a
 * duplicate wins, as there), in a text a fraction of the size, which is also the
 * key the totals are kept under, without the names (pods whose containers differ
 * only in name, image, env or probes share it). `null` stays `null`; elements that are not objects fall back.
 */
function reducedListTexts(s: JsonScanner, keys: readonly string[]): [named: string, unnamed: string] {
  if (s.takeNull()) return ['null', 'null'];
  const texts = new Array<string | undefined>(keys.length);
  let named = '[';
  let unnamed = '[';
  s.enterArray();
  while (s.nextElement()) {
    if (s.peek() !== 0x7b) fallback();
    texts.fill(undefined);
    s.enterObject();
    while (s.nextKey()) {
      let index = -1;
      for (let i = 0; i < keys.length; i++) if (s.keyIs(keys[i] as string)) index = i;
      if (index < 0) s.skipValue();
      else texts[index] = s.source.slice(s.skipValue(), s.pos);
    }
    let member = '';
    let memberUnnamed = '';
    for (let i = 0; i < keys.length; i++) {
      const text = texts[i];
      if (text === undefined) continue;
      const entry = `"${keys[i] as string}":${text}`;
      member += `${member === '' ? '' : ','}${entry}`;
      if (keys[i] !== 'name') memberUnnamed += `${memberUnnamed === '' ? '' : ','}${entry}`;
    }
    named += `${named === '[' ? '' : ','}{${member}}`;
    unnamed += `${unnamed === '[' ? '' : ','}{${memberUnnamed}}`;
  }
  return [`${named}]`, `${unnamed}]`];
}

/**
 * Status lists matter to the totals only through their elements that report
 * resources (`resourceStatuses`: none reported, the spec alone is summed) and a
 * `PodResizePending` condition: an array whose text spells none of these reads
 * exactly as an empty one, and is skipped unbuilt (most pods).
 */
const REPORTED_RESOURCES = ['"resources"', '"allocatedResources"'] as const;
const RESIZE_PENDING = ['"PodResizePending"'] as const;

/** {@link scanList}, or `[]` for an array whose text holds none of `needles` (see above). */
function scanListOf(s: JsonScanner, keys: readonly string[], needles: readonly string[]): Part[] | null {
  if (s.peek() === 0x5b) {
    const start = s.pos;
    if (!s.skipValueMayHold(needles)) return [];
    s.pos = start;
  }
  return scanList(s, keys);
}

/**
 * A list of objects reduced to `keys`, each value `JSON.parse`d; `null` stays null
 * (read as an empty list). Elements that are not objects fall back.
 */
function scanList(s: JsonScanner, keys: readonly string[]): Part[] | null {
  if (s.takeNull()) return null;
  const out: Part[] = [];
  s.enterArray();
  while (s.nextElement()) {
    if (s.peek() !== 0x7b) fallback();
    const item: Part = {};
    s.enterObject();
    while (s.nextKey()) {
      let key: string | undefined;
      for (const k of keys) if (s.keyIs(k)) key = k;
      if (key === undefined) s.skipValue();
      else item[key] = s.peek() === 0x22 ? s.readString() : s.parseValue();
    }
    out.push(item);
  }
  return out;
}
