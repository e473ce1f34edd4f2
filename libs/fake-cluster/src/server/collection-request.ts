import type { ResourceDef } from '../resource-registry.js';

/** A request for a collection: its resource, namespace (undefined = all) and query. */
export interface CollectionRequest {
  resource: ResourceDef;
  namespace: string | undefined;
  query: URLSearchParams;
  accept: string | undefined;
}
