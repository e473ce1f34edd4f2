import { z } from 'zod';
import { ClusterNameSchema } from './cluster-name.js';

/**
 * A cluster registered at runtime (`POST /api/v1/clusters`), as stored in
 * `knm:connections`: the kubeconfig and context sealed together (`sealed`, see
 * `@knm/secrets`), beside what may be shown to anyone who may see the cluster.
 */
export const ClusterConnectionRecordSchema = z.object({
  name: ClusterNameSchema,
  /** The API server's URL (from the kubeconfig's selected cluster): not a credential. */
  server: z.string().min(1),
  /** The kubeconfig context the connection uses; absent = the kubeconfig's current context. */
  context: z.string().min(1).optional(),
  /** `{kubeconfig, context?}` JSON, sealed under `KNM_SECRETS_KEY` with the context `cluster-connection:<name>`. */
  sealed: z.string().min(1),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  /** Who registered it and who last replaced its credentials (a principal's subject). */
  createdBy: z.string().optional(),
  updatedBy: z.string().optional(),
});
export type ClusterConnectionRecord = z.infer<typeof ClusterConnectionRecordSchema>;

/** What may leave the store: a record without its sealed credentials. */
export type ClusterConnectionSummary = Omit<ClusterConnectionRecord, 'sealed'>;

/** What the sealed part of a record holds. */
export const ClusterCredentialsSchema = z.object({
  /** The kubeconfig, YAML or JSON, as it was registered. */
  kubeconfig: z.string().min(1),
  context: z.string().min(1).optional(),
});
export type ClusterCredentials = z.infer<typeof ClusterCredentialsSchema>;

/** Published on `knm:connections:changes` after every change of `knm:connections`. */
export const ClusterConnectionChangeSchema = z.object({
  name: ClusterNameSchema,
  op: z.enum(['put', 'delete']),
});
export type ClusterConnectionChange = z.infer<typeof ClusterConnectionChangeSchema>;
