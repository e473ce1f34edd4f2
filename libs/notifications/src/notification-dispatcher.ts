import { Queue } from 'bullmq';
import { z } from 'zod';
import {
  decodeJson,
  INCIDENT_EVENT_FIELD,
  IncidentTransitionSchema,
  type ClusterName,
  type IncidentTransition,
  type Keyspace,
} from '@knm/contracts';
import type { RedisClient } from '@knm/node-store';
import { DELIVERY_QUEUE, type DeliveryJobData } from './delivery-job.js';
import { deliveryJobOptions } from './delivery-job-options.js';
import { planDeliveries } from './delivery-plan.js';
import type { WebhookSinkStore } from './webhook-sink-store.js';

/** Where the dispatcher reports (a pino logger fits). */
export interface DispatcherLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** Options of {@link NotificationDispatcher}. */
export interface NotificationDispatcherOptions {
  redis: RedisClient;
  /** The connection the delivery queue uses (BullMQ wants its own; see `createRedisConnection(url, 'bullmq')`). */
  queueConnection: RedisClient;
  keyspace: Keyspace;
  cluster: ClusterName;
  sinks: WebhookSinkStore;
  /**
   * How long the first transition of a hand-over waits for others, so that many nodes
   * failing at once make one message, not one each. Default 5,000 ms.
   */
  groupWindowMs?: number;
  /** How often the outbox is read. Default 1,000 ms. */
  pollMs?: number;
  /** Transitions handed over at most at once. Default 500. */
  maxBatch?: number;
  logger?: DispatcherLogger;
}

const STREAM_ID = /^\d+-\d+$/;

/**
 * The range of the outbox being handed over, kept in Redis until it is done
 * (`notify-plan`): written by one leader's dispatcher, perhaps finished by the next.
 */
const HandOverSchema = z.object({
  /** The ID of its first entry: names the hand-over (and so its jobs). */
  id: z.string().regex(STREAM_ID),
  /** Exclusive: the cursor it starts after. */
  from: z.string().regex(STREAM_ID),
  /** Inclusive: its last entry. */
  to: z.string().regex(STREAM_ID),
});
type HandOver = z.infer<typeof HandOverSchema>;

/**
 * Finishes a hand-over: moves the cursor past it and forgets it, only if it is still
 * the current one (a second dispatcher that finished it first, and planned the
 * next, must not see its next plan dropped).
 */
const FINISH_HAND_OVER = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('DEL', KEYS[1])
return 1`;

/**
 * Hands a cluster's incident transitions to the delivery queue, each exactly once.
 *
 * The leading watcher appends every transition to `knm:{c}:incident-events` in the
 * fenced step that changes the incident (an outbox: no transition is lost with a
 * crash and none is written twice by two replicas). This dispatcher, run by the
 * leader too, reads the outbox after `notify-cursor` and hands it over in three
 * recorded steps: (1) the range is fixed in `notify-plan` (SET NX: one plan at a
 * time, whoever plans); (2) one BullMQ job per sink and kind is added, with ids
 * derived from the plan ({@link planDeliveries}), so adding them twice adds them
 * once; (3) the cursor moves past the range and the plan is dropped, atomically. A
 * dispatcher that dies between any two steps leaves a state the next one (after a
 * failover) completes with the same jobs. It waits `groupWindowMs` after the
 * oldest waiting transition, so a burst is one message per sink.
 */
export class NotificationDispatcher {
  private readonly queue: Queue<DeliveryJobData>;
  private readonly keys;
  private readonly groupWindowMs: number;
  private readonly pollMs: number;
  private readonly maxBatch: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: NotificationDispatcherOptions) {
    this.keys = options.keyspace.cluster(options.cluster);
    this.groupWindowMs = options.groupWindowMs ?? 5_000;
    this.pollMs = options.pollMs ?? 1_000;
    this.maxBatch = options.maxBatch ?? 500;
    this.queue = new Queue<DeliveryJobData>(DELIVERY_QUEUE, {
      connection: options.queueConnection,
      prefix: options.keyspace.notifyQueuePrefix,
    });
    // Unheard, BullMQ prints the error whole, with the command's arguments.
    this.queue.on('error', (err) => options.logger?.warn({ err: err.message }, 'notification queue error'));
  }

  /** Reads the outbox every `pollMs` until {@link stop}. */
  start(): void {
    const tick = (): void => {
      if (this.stopped) return;
      this.running = this.step()
        .then(() => undefined)
        .catch((err: unknown) =>
          this.options.logger?.warn(
            { err: (err as Error).message, cluster: this.options.cluster },
            'notification hand-over failed; will retry',
          ),
        )
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.pollMs);
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    await this.queue.close();
  }

  /**
   * One pass: plans a hand-over when the outbox holds transitions old enough (or a
   * full batch), then completes the current one. Answers how many transitions were
   * handed over (0 when none were due).
   */
  async step(now: number = Date.now()): Promise<number> {
    const handOver = (await this.currentHandOver()) ?? (await this.plan(now));
    if (!handOver) return 0;
    const transitions = await this.read(handOver);
    const sinks = await this.options.sinks.records();
    const jobs = planDeliveries(this.options.cluster, handOver.id, transitions, sinks);
    if (jobs.length > 0) {
      await this.queue.addBulk(
        jobs.map((job) => ({
          name: job.data.kind,
          data: job.data,
          opts: { ...deliveryJobOptions, jobId: job.jobId },
        })),
      );
    }
    await this.options.redis.eval(
      FINISH_HAND_OVER,
      2,
      this.keys.notifyPlan,
      this.keys.notifyCursor,
      JSON.stringify(handOver),
      handOver.to,
    );
    if (jobs.length > 0) {
      this.options.logger?.info(
        { cluster: this.options.cluster, transitions: transitions.length, messages: jobs.length },
        'notifications queued',
      );
    }
    return transitions.length;
  }

  private async currentHandOver(): Promise<HandOver | undefined> {
    const raw = await this.options.redis.get(this.keys.notifyPlan);
    return raw === null ? undefined : decodeJson(HandOverSchema, raw, this.keys.notifyPlan);
  }

  private async plan(now: number): Promise<HandOver | undefined> {
    const cursor = (await this.options.redis.get(this.keys.notifyCursor)) ?? '0-0';
    const entries = await this.options.redis.xrange(
      this.keys.incidentEvents,
      `(${cursor}`,
      '+',
      'COUNT',
      this.maxBatch,
    );
    const first = entries[0];
    const last = entries.at(-1);
    if (!first || !last) return undefined;
    const firstAt = Number(first[0].split('-')[0]);
    if (now - firstAt < this.groupWindowMs && entries.length < this.maxBatch) return undefined;
    const candidate: HandOver = { id: first[0], from: cursor, to: last[0] };
    // NX: if another dispatcher planned meanwhile, its plan is the one to finish.
    await this.options.redis.set(this.keys.notifyPlan, JSON.stringify(candidate), 'NX');
    return this.currentHandOver();
  }

  private async read(handOver: HandOver): Promise<IncidentTransition[]> {
    const entries = await this.options.redis.xrange(
      this.keys.incidentEvents,
      `(${handOver.from}`,
      handOver.to,
    );
    const transitions: IncidentTransition[] = [];
    for (const [id, fields] of entries) {
      const at = fields.indexOf(INCIDENT_EVENT_FIELD);
      const raw = at >= 0 ? fields[at + 1] : undefined;
      try {
        transitions.push(
          decodeJson(IncidentTransitionSchema, raw ?? '', `${this.keys.incidentEvents} entry ${id}`),
        );
      } catch (err) {
        this.options.logger?.warn(
          { cluster: this.options.cluster, entry: id, err: (err as Error).message },
          'incident transition dropped: not valid',
        );
      }
    }
    return transitions;
  }
}
