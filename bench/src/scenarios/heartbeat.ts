import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Keyspace, toClusterName, type Envelope } from '@knm/contracts';
import { ChangeSubscriber } from '@knm/node-store';
import { spawnTestWatcher, waitFor, type ManagedProcess } from '@knm/testing';
import { getJson } from '../harness/http.js';
import {
  benchNamespace,
  deleteNamespace,
  startSimProcess,
  stopAll,
  type SimProcess,
} from '../harness/processes.js';
import { compare, summarize } from '../harness/stats.js';
import type { BenchContext, Scenario, ScenarioResult } from '../harness/types.js';

/** Real label changes made during each window (they must come through; heartbeats must not). */
const LABEL_CHANGES = 3;
/** The label each change sets; its value names the run and the change. */
const RUN_LABEL = 'knm.bench/heartbeat-run';

/**
 * Counts the MODIFIED events of a plain node watch (what an informer without change
 * detection would forward), with their arrival times. Resolves once the watch's
 * response headers arrived; `stop()` ends it.
 */
async function watchNodes(sim: SimProcess): Promise<{ modifiedAt: number[]; stop(): void }> {
  const controller = new AbortController();
  const res = await fetch(`${sim.url}/api/v1/nodes?watch=1`, {
    headers: { authorization: `Bearer ${sim.token}` },
    signal: controller.signal,
  });
  if (!res.ok || !res.body) throw new Error(`node watch: HTTP ${res.status}`);
  const modifiedAt: number[] = [];
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  void (async () => {
    let rest = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      const now = performance.now();
      rest += decoder.decode(value, { stream: true });
      const lines = rest.split('\n');
      rest = lines.pop() ?? '';
      // A frame starts with its type; no need to parse the whole node to classify it.
      for (const line of lines) if (line.startsWith('{"type":"MODIFIED"')) modifiedAt.push(now);
    }
  })().catch(() => undefined); // aborted by stop()
  return { modifiedAt, stop: () => controller.abort() };
}

/**
 * Heartbeat suppression: kubelets rewrite every node's status every few seconds, and
 * a plain node watch sees each rewrite as MODIFIED; the watcher drops the ones that
 * change nothing a user sees. Over windows with heartbeats on and a few real label
 * changes, counts the raw MODIFIED events of a plain watch on kube-sim against the
 * envelopes the watcher published on the cluster's changes channel.
 */
export const heartbeatScenario: Scenario = {
  name: 'heartbeat',
  title: 'Heartbeat suppression: raw node updates vs envelopes published',
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const windowMs = ctx.quick ? 1_000 : 10_000;
    // About 500 heartbeats a second whatever the size (a kubelet's default is every 10 s).
    const heartbeatSeconds = Math.max(1, Math.round(ctx.scale.nodes / 500));
    const dir = await mkdtemp(join(tmpdir(), 'knm-bench-heartbeat-'));
    const namespace = benchNamespace();
    const cluster = toClusterName('bench');
    let sim: SimProcess | undefined;
    let watcher: ManagedProcess | undefined;
    const redis = new Redis(ctx.redisUrl, { maxRetriesPerRequest: 1 });
    const subscriber = new ChangeSubscriber(redis, new Keyspace(namespace));
    let watch: Awaited<ReturnType<typeof watchNodes>> | undefined;
    try {
      sim = await startSimProcess({
        ...ctx.scale,
        heartbeatSeconds,
        kubeconfigPath: join(dir, 'sim.kubeconfig'),
      });
      const live = sim;
      watcher = spawnTestWatcher({
        cluster,
        kubeconfigPath: sim.kubeconfigPath,
        redis: { url: ctx.redisUrl, namespace },
        name: 'watcher-bench',
      });
      const envelopes: { at: number; envelope: Envelope }[] = [];
      subscriber.onEnvelope((envelope) => envelopes.push({ at: performance.now(), envelope }));
      await subscriber.subscribe(cluster);
      await watcher.waitForOutput(/"msg":"watcher ready"/, 600_000);
      ctx.log(
        `kube-sim (started in ${sim.startMs} ms, heartbeats every ${heartbeatSeconds} s) and watcher ready`,
      );
      watch = await watchNodes(sim);
      const nodeNames = (
        await getJson<{ items: { metadata: { name: string } }[] }>(
          `${sim.url}/api/v1/nodes?limit=${LABEL_CHANGES}`,
          {
            authorization: `Bearer ${sim.token}`,
          },
        )
      ).items.map((n) => n.metadata.name);

      const raw: number[] = [];
      const published: number[] = [];
      /** The label value each change sets: it names the change, whatever window its envelope lands in. */
      const labelValue = (run: number, k: number): string => `${run + ctx.warmup}-${k}`;
      const labelledValues = (): Set<string> =>
        new Set(
          envelopes.flatMap(({ envelope }) =>
            envelope.type === 'node_update' && envelope.changes.includes('labels')
              ? [envelope.data.labels[RUN_LABEL] ?? '']
              : [],
          ),
        );
      for (let run = -ctx.warmup; run < ctx.runs; run++) {
        const start = performance.now();
        for (let k = 0; k < LABEL_CHANGES; k++) {
          await new Promise((r) => setTimeout(r, windowMs / (LABEL_CHANGES + 1)));
          const node = nodeNames[k % nodeNames.length] as string;
          const res = await fetch(`${live.url}/api/v1/nodes/${node}`, {
            method: 'PATCH',
            headers: {
              authorization: `Bearer ${live.token}`,
              'content-type': 'application/merge-patch+json',
            },
            body: JSON.stringify({ metadata: { labels: { [RUN_LABEL]: labelValue(run, k) } } }),
          });
          if (!res.ok) throw new Error(`PATCH node ${node}: HTTP ${res.status}`);
          await res.arrayBuffer();
        }
        await new Promise((r) => setTimeout(r, Math.max(0, start + windowMs - performance.now())));
        const end = performance.now();
        // Every label change must come through as a node_update. On a loaded machine the
        // last one can land after its window ends, so it is waited for by its value (the
        // windows' counts stay what arrived within them).
        const expected = Array.from({ length: LABEL_CHANGES }, (_, k) => labelValue(run, k));
        await waitFor(
          () => {
            const seen = labelledValues();
            return expected.every((v) => seen.has(v));
          },
          { timeout: 30_000, what: `the node_update envelopes of label changes ${expected.join(', ')}` },
        );
        if (run < 0) continue;
        const inWindow = (at: number): boolean => at >= start && at < end;
        // Node messages only: the leader's usage snapshot (one per metrics poll) is not a node update.
        raw.push(watch.modifiedAt.filter(inWindow).length);
        published.push(envelopes.filter((e) => inWindow(e.at) && e.envelope.type.startsWith('node_')).length);
      }
      ctx.log(`raw MODIFIED per window: ${raw.join(', ')}; envelopes: ${published.join(', ')}`);
      const unit = `messages per ${windowMs / 1000} s`;
      const ours = summarize(unit, published);
      const baseline = summarize(unit, raw);
      const suppressed = summarize(
        '%',
        raw.map((r, i) => {
          const beats = r - LABEL_CHANGES;
          const beatEnvelopes = Math.max(0, (published[i] ?? 0) - LABEL_CHANGES);
          return beats <= 0 ? 100 : 100 * (1 - beatEnvelopes / beats);
        }),
      );
      return {
        scenario: 'heartbeat',
        title: this.title,
        params: {
          nodes: ctx.scale.nodes,
          pods: ctx.scale.pods,
          heartbeatSeconds,
          windowMs,
          labelChangesPerWindow: LABEL_CHANGES,
          runs: ctx.runs,
          warmup: ctx.warmup,
        },
        comparisons: [
          compare(
            'node messages published',
            'lower',
            ours,
            'raw node MODIFIED events (plain watch)',
            baseline,
          ),
        ],
        figures: [
          {
            metric: 'heartbeat-only updates suppressed',
            labels: { heartbeatSeconds, nodes: ctx.scale.nodes },
            value: suppressed,
          },
        ],
        charts: [
          {
            id: 'heartbeat-messages',
            title: `Node messages per ${windowMs / 1000} s window (${LABEL_CHANGES} real label changes in each)`,
            kind: 'bar',
            xLabel: 'window',
            yLabel: 'messages',
            series: [
              { name: 'raw MODIFIED (plain watch)', points: raw.map((y, i) => ({ x: `run ${i + 1}`, y })) },
              {
                name: 'envelopes published (knm)',
                points: published.map((y, i) => ({ x: `run ${i + 1}`, y })),
              },
            ],
          },
        ],
        notes: [
          `kube-sim beats every node's heartbeat every ${heartbeatSeconds} s (status conditions' heartbeat times: a write and a MODIFIED event each), spread evenly; a plain watch of /api/v1/nodes counts the MODIFIED events, the watcher's envelopes are counted on the cluster's Redis changes channel, both over the same windows.`,
          `Each window carries ${LABEL_CHANGES} real label changes (PATCH), which must each arrive as a node_update envelope (checked). Suppressed = share of the raw updates that published nothing, the label changes set aside.`,
        ],
      };
    } finally {
      watch?.stop();
      await subscriber.close().catch(() => undefined);
      redis.disconnect();
      await stopAll([watcher, sim?.proc]);
      await rm(dir, { recursive: true, force: true });
      await deleteNamespace(ctx.redisUrl, namespace);
    }
  },
};
