import type { ServerResponse } from 'node:http';
import { statusErrors } from '../api/api-status.js';
import type { JsonObject, KubeObject } from '../api/kube-object.js';
import { negotiateTable, parseIncludeObject, toTable } from '../api/table.js';
import type { ApiContext } from './api-context.js';
import type { CollectionRequest } from './collection-request.js';
import { objectMatcher, parseListOptions, parseResourceVersion, type ListOptions } from './list-options.js';
import { validateListOptions } from './list-options-validation.js';
import { listPage } from './list-page.js';
import { waitForResourceVersion } from './resource-version-wait.js';
import { JSON_FORMAT, WatchStream, type WatchFormat } from './watch-stream.js';

/** Answers GET on a collection: a list, or a watch when `watch=true`. */
export async function handleCollectionGet(
  ctx: ApiContext,
  req: CollectionRequest,
  res: ServerResponse,
): Promise<void> {
  const options = parseListOptions(req.query, req.resource);
  validateListOptions(options);
  if (options.watch) {
    startWatch(ctx, req, options, res);
    return;
  }
  const rv = options.resourceVersion;
  if (options.continueToken === undefined && rv !== undefined && rv !== '' && rv !== '0') {
    await waitForResourceVersion(ctx.cluster.store, parseResourceVersion(rv), ctx.resourceVersionWaitMs);
  }
  await serveList(ctx, req, options, res);
}

async function serveList(
  ctx: ApiContext,
  req: CollectionRequest,
  options: ListOptions,
  res: ServerResponse,
): Promise<void> {
  const page = listPage(ctx, req, options);
  const metadata: JsonObject = { resourceVersion: page.resourceVersion };
  if (page.continueToken !== undefined) metadata['continue'] = page.continueToken;
  if (page.remainingItemCount !== undefined) metadata['remainingItemCount'] = page.remainingItemCount;
  const tableVersion = negotiateTable(req.accept);
  if (tableVersion !== undefined) {
    const table = toTable(req.resource.kind, page.items, {
      resourceVersion: page.resourceVersion,
      ...(page.continueToken !== undefined ? { continue: page.continueToken } : {}),
      ...(page.remainingItemCount !== undefined ? { remainingItemCount: page.remainingItemCount } : {}),
      includeObject: parseIncludeObject(req.query.get('includeObject') ?? undefined),
      now: new Date(ctx.cluster.now()),
      apiVersion: tableVersion,
    });
    const text = JSON.stringify(table);
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Cache-Control': 'no-cache, private',
      'Content-Length': Buffer.byteLength(text),
    });
    res.end(text);
    return;
  }
  const head = JSON.stringify({
    kind: `${req.resource.kind}List`,
    apiVersion: req.resource.apiVersion,
    metadata,
  });
  await writeList(res, `${head.slice(0, -1)},"items":[`, page.items, ']}');
}

/**
 * Streams a list body in batches, honouring backpressure, so a list of 150,000 pods
 * never becomes one giant string. Items go out without `kind` and `apiVersion`, as
 * the API server's lists of built-in types do (the list's own say what they are).
 */
async function writeList(
  res: ServerResponse,
  head: string,
  items: readonly KubeObject[],
  tail: string,
): Promise<void> {
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
  let buffer = head;
  for (let i = 0; i < items.length; i++) {
    if (i > 0) buffer += ',';
    buffer += JSON.stringify({ ...items[i], kind: undefined, apiVersion: undefined });
    if (buffer.length > 256 * 1024) {
      const ok = res.write(buffer);
      buffer = '';
      if (!ok) {
        const closed = await new Promise<boolean>((resolve) => {
          const onDrain = () => {
            res.off('close', onClose);
            resolve(false);
          };
          const onClose = () => {
            res.off('drain', onDrain);
            resolve(true);
          };
          res.once('drain', onDrain);
          res.once('close', onClose);
        });
        if (closed) return;
      }
    }
  }
  res.end(buffer + tail);
}

function watchFormat(ctx: ApiContext, req: CollectionRequest): WatchFormat {
  const apiVersion = negotiateTable(req.accept);
  if (apiVersion === undefined) return JSON_FORMAT;
  const includeObject = parseIncludeObject(req.query.get('includeObject') ?? undefined);
  return {
    key: `table:${apiVersion}:${includeObject}`,
    objectJson: (object) =>
      JSON.stringify(
        toTable(req.resource.kind, [object], {
          resourceVersion: object.metadata.resourceVersion,
          includeObject,
          now: new Date(ctx.cluster.now()),
          apiVersion,
        }),
      ),
  };
}

/**
 * Opens a watch. From unset/"0": synthetic ADDED events for the current state;
 * with `sendInitialEvents=true`: the same, then a BOOKMARK annotated
 * `k8s.io/initial-events-end`; from a version: exactly the changes after it, or,
 * when the log no longer reaches back, HTTP 200 with one ERROR event (410 Expired)
 * and the end of the stream. The backlog is taken (as references, nothing
 * serialised ahead) and the stream subscribed in the same synchronous step, so no
 * change can fall between them; the stream then writes the backlog with
 * backpressure while live changes queue behind it (see {@link WatchStream}).
 */
function startWatch(
  ctx: ApiContext,
  req: CollectionRequest,
  options: ListOptions,
  res: ServerResponse,
): void {
  const { cluster, hub } = ctx;
  const store = cluster.store;
  const { resource, namespace } = req;
  const fromRv =
    options.resourceVersion === undefined || options.resourceVersion === '' || options.resourceVersion === '0'
      ? undefined
      : parseResourceVersion(options.resourceVersion);
  const matches = objectMatcher(resource, namespace, options);
  const prefix = resource.namespaced && namespace !== undefined ? `${namespace}/` : undefined;
  const timeoutMs =
    options.timeoutSeconds !== undefined ? options.timeoutSeconds * 1000 : ctx.defaultWatchTimeoutMs;
  const stream = new WatchStream(res, {
    kind: resource.kind,
    apiVersion: resource.apiVersion,
    matches,
    format: watchFormat(ctx, req),
    bookmarks: options.allowWatchBookmarks,
    bookmarkIntervalMs: ctx.bookmarkIntervalMs,
    maxBufferedBytes: ctx.watchBufferBytes,
    maxQueuedBytes: ctx.watchBufferBytes,
    timeoutMs,
    currentRv: () => store.resourceVersion,
    onClose: (s) => hub.remove(s),
  });
  stream.stalled = hub.stalled;
  if (options.sendInitialEvents === true || fromRv === undefined) {
    void stream.replay({
      objects: store.kind(resource.kind).sorted(prefix),
      ...(options.sendInitialEvents === true ? { initialEventsEndRv: store.resourceVersion } : {}),
    });
  } else {
    const changes = store.changesSince(fromRv);
    if (changes === undefined) {
      stream.sendErrorAndEnd(
        statusErrors.expired(`too old resource version: ${fromRv} (${store.oldestWatchableRv + 1})`).status,
      );
      return;
    }
    void stream.replay({ changes });
  }
  if (!stream.isClosed) hub.add(stream);
}
