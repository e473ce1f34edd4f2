import { z } from 'zod';
import { IncidentTransitionSchema } from '@knm/contracts';

/** The BullMQ queue (under `Keyspace.notifyQueuePrefix`) that delivers notifications. */
export const DELIVERY_QUEUE = 'deliveries';

/** Transitions in one message at most; a bigger group is several messages. */
export const MAX_TRANSITIONS_PER_MESSAGE = 50;

/** One message to one sink: a job of the delivery queue (its id is the message's delivery id). */
export const DeliveryJobDataSchema = z.object({
  sinkId: z.string().min(1),
  cluster: z.string().min(1),
  kind: z.enum(['opened', 'resolved']),
  transitions: z.array(IncidentTransitionSchema).min(1),
});
export type DeliveryJobData = z.infer<typeof DeliveryJobDataSchema>;
