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

/** The largest kubeconfig a registration accepts (bytes of UTF-8 text): real ones are a few KiB. */
export const MAX_KUBECONFIG_BYTES = 256 * 1024;

/**
 * A kubeconfig's text. Its size ({@link MAX_KUBECONFIG_BYTES}) is not a schema rule:
 * the gateway answers a kubeconfig too large with 413, not with a 400 of the schema.
 */
const KubeconfigTextSchema = z.string().min(1);

/** `POST /api/v1/clusters` and `POST /api/v1/clusters/test`. */
export const RegisterClusterRequestSchema = z.strictObject({
  name: ClusterNameSchema,
  /** YAML or JSON, self-contained (`*-data` fields, no file paths). */
  kubeconfig: KubeconfigTextSchema,
  /** The context to use; absent = the kubeconfig's current context. */
  context: z.string().min(1).optional(),
});
export type RegisterClusterRequest = z.infer<typeof RegisterClusterRequestSchema>;

/** `PUT /api/v1/clusters/:cluster`: new credentials for a registered cluster. */
export const ReplaceClusterCredentialsRequestSchema = RegisterClusterRequestSchema.omit({ name: true });
export type ReplaceClusterCredentialsRequest = z.infer<typeof ReplaceClusterCredentialsRequestSchema>;

/** Why a connection test failed, by what an administrator has to fix. */
export const ConnectionFailureKindSchema = z.enum([
  /** The kubeconfig cannot be used (syntax, unknown context, file references, exec not allowed). */
  'invalid',
  /** No answer: refused, DNS, timeout. */
  'unreachable',
  /** The TLS handshake failed (unknown CA, wrong host name, not TLS). */
  'tls',
  /** The API server refused the credentials (401). */
  'authentication',
  /** The credentials lack a permission the watcher needs. */
  'permission',
]);
export type ConnectionFailureKind = z.infer<typeof ConnectionFailureKindSchema>;

/** One step of a connection test (`reach`, `authenticate`, `list-nodes`, `nodes/patch`, ...). */
export const ConnectionCheckSchema = z.object({
  name: z.string(),
  ok: z.boolean(),
  detail: z.string(),
});
export type ConnectionCheck = z.infer<typeof ConnectionCheckSchema>;

/**
 * What testing a kubeconfig found: the checks run, in order, and the first reason it
 * cannot be used. Never holds a credential (token, certificate, key, password).
 */
export const ConnectionTestResultSchema = z.object({
  ok: z.boolean(),
  /** The API server the selected context names (absent when the kubeconfig could not be read). */
  server: z.string().optional(),
  /** The context tested. */
  context: z.string().optional(),
  checks: z.array(ConnectionCheckSchema),
  failure: z
    .object({
      kind: ConnectionFailureKindSchema,
      /** The check that failed, when one did. */
      check: z.string().optional(),
      message: z.string(),
    })
    .optional(),
});
export type ConnectionTestResult = z.infer<typeof ConnectionTestResultSchema>;

/** `POST /api/v1/clusters/test`: credentials to test (the name, when the form has one, is not needed). */
export const TestClusterConnectionRequestSchema = RegisterClusterRequestSchema.partial({ name: true });
export type TestClusterConnectionRequest = z.infer<typeof TestClusterConnectionRequestSchema>;

/** A registered cluster as the API shows it (never its credentials). */
export const ClusterConnectionSummarySchema = ClusterConnectionRecordSchema.omit({ sealed: true });

/** 201 of `POST /api/v1/clusters`, 200 of `PUT /api/v1/clusters/:cluster`. */
export const RegisterClusterResponseSchema = z.object({
  cluster: ClusterConnectionSummarySchema,
  test: ConnectionTestResultSchema,
});
export type RegisterClusterResponse = z.infer<typeof RegisterClusterResponseSchema>;

/** 400 (unusable kubeconfig) or 422 (the cluster refused it) of a registration: the error body plus the test. */
export const ConnectionTestFailedBodySchema = z.object({
  statusCode: z.union([z.literal(400), z.literal(422)]),
  error: z.string(),
  message: z.string(),
  test: ConnectionTestResultSchema,
});
export type ConnectionTestFailedBody = z.infer<typeof ConnectionTestFailedBodySchema>;
