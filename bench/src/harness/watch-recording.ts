/**
 * A recording of what a Kubernetes API server sent a watcher: the Node and Pod lists,
 * page by page, and a Pod watch stream, bytes as sent (kube-sim's JSON lines); with
 * the per-node pod counts the watcher must end with once it has read it all. The
 * `ingest` scenario replays it to a watcher from memory (`replay-api-server.ts`), so
 * the simulator's cost is out of the measurement.
 */
import { podCounts, projectPod, type PodRecord } from '@knm/kube-reflector';

export interface ListRecording {
  /** Each page's JSON as the server sent it (`metadata.continue` of page i is `String(i + 1)`). */
  pages: Buffer[];
  resourceVersion: string;
}

export interface WatchRecording {
  nodes: ListRecording;
  pods: ListRecording;
  /** The Pod watch from `pods.resourceVersion`: JSON lines as sent. */
  podWatch: Buffer;
  /** Watch events (ADDED, MODIFIED, DELETED) in `podWatch`. */
  podEvents: number;
  /** Per node, the pods that count on it once every event is applied (nodes with none left out). */
  finalCounts: Record<string, number>;
}

interface RecordOptions {
  url: string;
  token: string;
  /** Starts and stops the server's activity (kube-sim's churn). */
  churn: (rate: number) => Promise<void>;
  rate: number;
  seconds: number;
  pageSize: number;
}

/** Records the lists, then the Pod watch while the server churns at `rate` for `seconds` (and until it is quiet). */
export async function recordWatch(options: RecordOptions): Promise<WatchRecording> {
  const headers = { authorization: `Bearer ${options.token}` };
  const nodes = await recordList(`${options.url}/api/v1/nodes`, headers, options.pageSize);
  const pods = await recordList(`${options.url}/api/v1/pods`, headers, options.pageSize);
  const watchUrl = `${options.url}/api/v1/pods?watch=1&resourceVersion=${pods.resourceVersion}&timeoutSeconds=3600`;
  const controller = new AbortController();
  const response = await fetch(watchUrl, { headers, signal: controller.signal });
  if (!response.ok || !response.body) throw new Error(`GET ${watchUrl}: HTTP ${response.status}`);
  const chunks: Buffer[] = [];
  let bytes = 0;
  let lastChunkAt = performance.now();
  const reading = (async () => {
    const reader = response.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (done || !value) return;
      chunks.push(Buffer.from(value));
      bytes += value.byteLength;
      lastChunkAt = performance.now();
    }
  })();
  await options.churn(options.rate);
  await new Promise((resolve) => setTimeout(resolve, options.seconds * 1_000));
  await options.churn(0);
  // Pods created by the churn go on changing for a while (scheduled, started): record until a quiet second.
  while (performance.now() - lastChunkAt < 1_000) await new Promise((resolve) => setTimeout(resolve, 100));
  controller.abort();
  await reading;
  let podWatch = Buffer.concat(chunks, bytes);
  // Only whole lines: the abort may have cut one.
  podWatch = podWatch.subarray(0, podWatch.lastIndexOf(0x0a) + 1);
  const { podEvents, finalCounts } = replayCounts(pods.pages, podWatch);
  return { nodes, pods, podWatch, podEvents, finalCounts };
}

async function recordList(
  base: string,
  headers: Record<string, string>,
  pageSize: number,
): Promise<ListRecording> {
  const pages: Buffer[] = [];
  let resourceVersion = '';
  let token: string | undefined;
  do {
    const url = `${base}?limit=${pageSize}${token ? `&continue=${encodeURIComponent(token)}` : ''}`;
    const response = await fetch(url, { headers });
    if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
    const list = (await response.json()) as { metadata: { resourceVersion: string; continue?: string } };
    resourceVersion ||= list.metadata.resourceVersion;
    token = list.metadata.continue || undefined;
    // The replay serves its own continue tokens: the page's index.
    list.metadata = { resourceVersion, ...(token ? { continue: String(pages.length + 1) } : {}) };
    pages.push(Buffer.from(JSON.stringify(list)));
  } while (token);
  return { pages, resourceVersion };
}

/** Applies the lists and the watch with the watcher's own rule (`podCounts`): what Redis must end with. */
function replayCounts(
  pages: readonly Buffer[],
  watch: Buffer,
): Pick<WatchRecording, 'podEvents' | 'finalCounts'> {
  const pods = new Map<string, PodRecord>();
  for (const page of pages) {
    for (const item of (JSON.parse(page.toString('utf8')) as { items: unknown[] }).items) {
      const pod = projectPod(item);
      pods.set(pod.uid, pod);
    }
  }
  let podEvents = 0;
  for (const line of watch.toString('utf8').split('\n')) {
    if (line === '') continue;
    const event = JSON.parse(line) as { type: string; object: unknown };
    if (event.type !== 'ADDED' && event.type !== 'MODIFIED' && event.type !== 'DELETED') continue;
    podEvents += 1;
    const pod = projectPod(event.object);
    if (event.type === 'DELETED') pods.delete(pod.uid);
    else pods.set(pod.uid, pod);
  }
  const finalCounts: Record<string, number> = {};
  for (const pod of pods.values()) {
    if (podCounts(pod) && pod.nodeName) finalCounts[pod.nodeName] = (finalCounts[pod.nodeName] ?? 0) + 1;
  }
  return { podEvents, finalCounts };
}
