import { createHash } from 'node:crypto';
import type { JsonObject } from '../kube-object.js';
import { RESOURCES, type ResourceDef } from '../../resource-registry.js';
import { GROUP_VERSION_SCHEMAS } from './kind-schemas.js';
import type { Schema } from './schema-builders.js';

/** The OpenAPI v3 path of a resource's group-version: `api/v1` or `apis/<group>/<version>`. */
export function groupVersionPath(resource: Pick<ResourceDef, 'group' | 'version'>): string {
  return resource.group === '' ? `api/${resource.version}` : `apis/${resource.group}/${resource.version}`;
}

/** The published schema of a resource's kind and the schemas it refers to, if kube-sim publishes one. */
export function kindSchema(
  resource: Pick<ResourceDef, 'group' | 'version' | 'kind'>,
): { schema: Schema; schemas: Record<string, Schema> } | undefined {
  const schemas = GROUP_VERSION_SCHEMAS[groupVersionPath(resource)];
  if (schemas === undefined) return undefined;
  const schema = Object.values(schemas).find((s) =>
    s['x-kubernetes-group-version-kind']?.some((g) => g.kind === resource.kind && g.group === resource.group),
  );
  return schema === undefined ? undefined : { schema, schemas };
}

const QUERY = (name: string, description: string): JsonObject => ({
  name,
  in: 'query',
  description,
  schema: { type: 'string', uniqueItems: true },
});

/** The write parameters kubectl looks for on PATCH before it sends `fieldValidation=Strict`. */
const WRITE_PARAMETERS: JsonObject[] = [
  QUERY('dryRun', 'When present, the request is checked but not persisted.'),
  QUERY('fieldManager', 'The name of the actor making the change.'),
  QUERY('fieldValidation', 'How unknown fields are treated: Ignore, Warn (the default) or Strict.'),
];

/** The name of a resource kind's schema (`io.k8s.api.core.v1.Node`), when kube-sim publishes one. */
export function kindSchemaName(
  resource: Pick<ResourceDef, 'group' | 'version' | 'kind'>,
): string | undefined {
  const found = kindSchema(resource);
  if (found === undefined) return undefined;
  return Object.entries(found.schemas).find(([, s]) => s === found.schema)?.[0];
}

/** The patch types the API server accepts (kubectl looks for the strategic one before it computes one). */
export const PATCH_TYPES = [
  'application/apply-patch+yaml',
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
];

function requestBody(contentTypes: string[], schemaName: string): JsonObject {
  const schema = { $ref: `#/components/schemas/${schemaName}` };
  return {
    content: Object.fromEntries(contentTypes.map((type) => [type, { schema }])),
    required: true,
  };
}

function operation(
  resource: ResourceDef,
  action: string,
  parameters: JsonObject[] = [],
  body?: JsonObject,
): JsonObject {
  return {
    description: `${action} ${resource.kind}`,
    operationId: `${action}${resource.kind}`,
    parameters,
    ...(body !== undefined ? { requestBody: body } : {}),
    responses: { '200': { description: 'OK' } },
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': {
      group: resource.group,
      version: resource.version,
      kind: resource.kind,
    },
  };
}

function resourcePaths(resource: ResourceDef): JsonObject {
  const prefix = `/${groupVersionPath(resource)}${resource.namespaced ? '/namespaces/{namespace}' : ''}/${resource.plural}`;
  const kind = kindSchemaName(resource);
  const object = kind === undefined ? undefined : requestBody(['*/*'], kind);
  return {
    [prefix]: {
      get: operation(resource, 'list'),
      post: operation(resource, 'post', WRITE_PARAMETERS, object),
    },
    [`${prefix}/{name}`]: {
      get: operation(resource, 'get'),
      put: operation(resource, 'put', WRITE_PARAMETERS, object),
      patch: operation(
        resource,
        'patch',
        [...WRITE_PARAMETERS, QUERY('force', 'Force an apply over conflicts.')],
        requestBody(PATCH_TYPES, 'io.k8s.apimachinery.pkg.apis.meta.v1.Patch'),
      ),
      delete: operation(resource, 'delete'),
    },
  };
}

/**
 * `/openapi/v3/<group-version path>`: the OpenAPI 3.0 document of one group-version:
 * its resources' paths (with the write parameters, `fieldValidation` among them, so
 * kubectl validates on the server) and the schemas of its kinds (what `kubectl
 * explain` prints). Undefined for a group-version kube-sim does not publish.
 */
export function groupVersionDocument(path: string, gitVersion: string): JsonObject | undefined {
  const schemas = GROUP_VERSION_SCHEMAS[path];
  if (schemas === undefined) return undefined;
  const paths: JsonObject = {};
  for (const resource of RESOURCES) {
    if (groupVersionPath(resource) === path) Object.assign(paths, resourcePaths(resource));
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: gitVersion },
    paths,
    components: { schemas: schemas as unknown as JsonObject },
  };
}

/**
 * `/openapi/v3`: the index of the group-version documents, each named by a URL
 * carrying its content hash (clients cache by it), as the API server serves it.
 */
export function openApiIndex(gitVersion: string): JsonObject {
  const paths: JsonObject = {};
  for (const path of Object.keys(GROUP_VERSION_SCHEMAS)) {
    const hash = createHash('sha512')
      .update(JSON.stringify(groupVersionDocument(path, gitVersion)))
      .digest('hex')
      .toUpperCase();
    paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${hash}` };
  }
  return { paths };
}
