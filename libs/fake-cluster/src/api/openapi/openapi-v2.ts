import { RESOURCES, type ResourceDef } from '../../resource-registry.js';
import { GROUP_VERSION_SCHEMAS } from './kind-schemas.js';
import { groupVersionPath, kindSchemaName, PATCH_TYPES } from './openapi-v3.js';
import type { Schema } from './schema-builders.js';

/**
 * A Swagger 2.0 schema object: an OpenAPI v3 {@link Schema} with a bare `$ref`
 * (Swagger allows siblings such as `description` next to it, OpenAPI 3.0 does not,
 * hence v3's `allOf` wrapping) and an int-or-string as `format: int-or-string`.
 */
export interface SwaggerSchema extends Omit<
  Schema,
  'allOf' | 'properties' | 'items' | 'additionalProperties' | 'x-kubernetes-int-or-string'
> {
  $ref?: string;
  properties?: Record<string, SwaggerSchema>;
  items?: SwaggerSchema;
  additionalProperties?: SwaggerSchema;
}

/** A parameter: a query or path parameter (a string), or the request body. */
export interface SwaggerParameter {
  name: string;
  in: 'query' | 'path' | 'body';
  description?: string;
  required?: boolean;
  type?: 'string';
  uniqueItems?: boolean;
  schema?: SwaggerSchema;
}

/** A response: its description and, for a single object, the schema of what comes back. */
export interface SwaggerResponse {
  description: string;
  schema?: SwaggerSchema;
}

/** One operation on a path, marked with the Kubernetes action and kind it acts on. */
export interface SwaggerOperation {
  description: string;
  operationId: string;
  /** The request media types, where the operation restricts them (PATCH: the patch types). */
  consumes?: string[];
  parameters?: SwaggerParameter[];
  responses: Record<string, SwaggerResponse>;
  'x-kubernetes-action': string;
  'x-kubernetes-group-version-kind': { group: string; version: string; kind: string };
}

/** The operations of one path, and the parameters they share (the path's own). */
export interface SwaggerPathItem {
  get?: SwaggerOperation;
  put?: SwaggerOperation;
  post?: SwaggerOperation;
  delete?: SwaggerOperation;
  patch?: SwaggerOperation;
  parameters?: SwaggerParameter[];
}

/** The Swagger 2.0 document served at `/openapi/v2` (the subset kube-sim writes). */
export interface SwaggerDocument {
  swagger: '2.0';
  info: { title: string; version: string };
  paths: Record<string, SwaggerPathItem>;
  definitions: Record<string, SwaggerSchema>;
}

const V3_REF_PREFIX = '#/components/schemas/';
const DEFINITIONS = '#/definitions/';
const PATCH = 'io.k8s.apimachinery.pkg.apis.meta.v1.Patch';

/** Entries sorted by key: the API server's document is marshalled from Go maps, which sorts them. */
function sorted<T>(entries: [string, T][]): Record<string, T> {
  return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** One v3 schema as Swagger 2.0 writes it. */
function toSwagger(schema: Schema): SwaggerSchema {
  const {
    allOf,
    properties,
    items,
    additionalProperties,
    'x-kubernetes-int-or-string': intOrString,
    ...rest
  } = schema;
  const out: SwaggerSchema = { ...rest };
  // The v3 builders give list items an empty description; the API server publishes none there.
  if (out.description === '') delete out.description;
  const ref = allOf?.[0]?.$ref;
  if (ref !== undefined) out.$ref = DEFINITIONS + ref.slice(V3_REF_PREFIX.length);
  if (intOrString === true) Object.assign(out, { type: 'string', format: 'int-or-string' });
  if (properties !== undefined) {
    out.properties = sorted(Object.entries(properties).map(([name, s]) => [name, toSwagger(s)]));
  }
  if (items !== undefined) out.items = toSwagger(items);
  if (additionalProperties !== undefined) out.additionalProperties = toSwagger(additionalProperties);
  return out;
}

const query = (name: string, description: string): SwaggerParameter => ({
  name,
  in: 'query',
  description,
  type: 'string',
  uniqueItems: true,
});

const pathParameter = (name: string, description: string): SwaggerParameter => ({
  name,
  in: 'path',
  description,
  required: true,
  type: 'string',
  uniqueItems: true,
});

const body = (definition: string): SwaggerParameter => ({
  name: 'body',
  in: 'body',
  required: true,
  schema: { $ref: DEFINITIONS + definition },
});

/** The write parameters kubectl looks for on PATCH before it sends `fieldValidation=Strict`. */
const WRITE_PARAMETERS: SwaggerParameter[] = [
  query('dryRun', 'When present, the request is checked but not persisted.'),
  query('fieldManager', 'The name of the actor making the change.'),
  query('fieldValidation', 'How unknown fields are treated: Ignore, Warn (the default) or Strict.'),
];

function operation(
  resource: ResourceDef,
  action: string,
  parameters: SwaggerParameter[],
  returns?: string,
): SwaggerOperation {
  const ok: SwaggerResponse = { description: 'OK' };
  if (returns !== undefined) ok.schema = { $ref: DEFINITIONS + returns };
  return {
    description: `${action} ${resource.kind}`,
    operationId: `${action}${resource.kind}`,
    ...(parameters.length > 0 ? { parameters } : {}),
    responses: { '200': ok, '401': { description: 'Unauthorized' } },
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': {
      group: resource.group,
      version: resource.version,
      kind: resource.kind,
    },
  };
}

function resourcePaths(resource: ResourceDef, definition: string): Record<string, SwaggerPathItem> {
  const prefix = `/${groupVersionPath(resource)}${resource.namespaced ? '/namespaces/{namespace}' : ''}/${resource.plural}`;
  const scope = [
    ...(resource.namespaced
      ? [pathParameter('namespace', 'object name and auth scope, such as for teams and projects')]
      : []),
    query('pretty', "If 'true', then the output is pretty printed."),
  ];
  return {
    [prefix]: {
      get: operation(resource, 'list', []),
      post: operation(resource, 'post', [body(definition), ...WRITE_PARAMETERS], definition),
      parameters: scope,
    },
    [`${prefix}/{name}`]: {
      get: operation(resource, 'get', [], definition),
      put: operation(resource, 'put', [body(definition), ...WRITE_PARAMETERS], definition),
      patch: {
        ...operation(
          resource,
          'patch',
          [body(PATCH), ...WRITE_PARAMETERS, query('force', 'Force an apply over conflicts.')],
          definition,
        ),
        consumes: PATCH_TYPES,
      },
      delete: operation(resource, 'delete', []),
      parameters: [pathParameter('name', `name of the ${resource.kind}`), ...scope],
    },
  };
}

/**
 * `/openapi/v2`: one Swagger 2.0 document for every group-version, built from the
 * schemas kube-sim publishes as OpenAPI v3 (so both describe the same fields):
 * definitions named as the API server names them, each kind carrying its
 * `x-kubernetes-group-version-kind` (what `kubectl explain` looks a resource up
 * by), and each resource's paths with the PATCH parameters kubectl 1.27 and 1.28
 * check for `fieldValidation` before they leave validation to the server.
 */
export function openApiV2Document(gitVersion: string): SwaggerDocument {
  const definitions: [string, SwaggerSchema][] = [];
  const seen = new Set<string>();
  for (const schemas of Object.values(GROUP_VERSION_SCHEMAS)) {
    for (const [name, schema] of Object.entries(schemas)) {
      if (seen.has(name)) continue;
      seen.add(name);
      definitions.push([name, toSwagger(schema)]);
    }
  }
  const paths: [string, SwaggerPathItem][] = [];
  for (const resource of RESOURCES) {
    const definition = kindSchemaName(resource);
    if (definition !== undefined) paths.push(...Object.entries(resourcePaths(resource, definition)));
  }
  return {
    swagger: '2.0',
    info: { title: 'Kubernetes', version: gitVersion },
    paths: sorted(paths),
    definitions: sorted(definitions),
  };
}
