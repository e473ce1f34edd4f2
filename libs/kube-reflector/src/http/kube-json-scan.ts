import { detach, fallback, JsonScanner } from '../json-scanner.js';
import type { ListPage, ObjectEvent } from '../lister-watcher.js';
import type { ObjectScan } from '../pod-scan.js';

/*
 * The two envelopes the API server wraps objects in (a watch line, a list page),
 * walked with a JsonScanner so that each object is projected from its text without
 * being built. Both throw ScanFallback for anything the ordinary JSON.parse path must
 * decide (a BOOKMARK or ERROR line, an odd shape, invalid JSON).
 */

/** One reusable scanner: decoding is synchronous, so one per process is enough. */
const scanner = new JsonScanner();

/** A watch line `{"type": ADDED|MODIFIED|DELETED, "object": {...}}`, projected. */
export function scanWatchLine<T>(line: string, scan: ObjectScan<T>): ObjectEvent<T> {
  scanner.reset(line);
  let type: string | undefined;
  let scanned: ReturnType<ObjectScan<T>> | undefined;
  scanner.enterObject();
  while (scanner.nextKey()) {
    if (scanner.keyIs('type')) type = scanner.readString();
    else if (scanner.keyIs('object')) scanned = scan(scanner);
    else scanner.skipValue();
  }
  scanner.finish();
  if ((type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED') || scanned === undefined) {
    return fallback();
  }
  return { type, object: scanned.object, resourceVersion: scanned.resourceVersion };
}

/** A list page `{"metadata": {resourceVersion, continue}, "items": [...]}`, every item projected. */
export function scanListBody<T>(body: string, scan: ObjectScan<T>): ListPage<T> {
  scanner.reset(body);
  let resourceVersion: string | undefined;
  let cont: string | undefined;
  let items: T[] = [];
  scanner.enterObject();
  while (scanner.nextKey()) {
    if (scanner.keyIs('metadata')) {
      resourceVersion = undefined;
      cont = undefined;
      if (scanner.takeNull()) continue;
      scanner.enterObject();
      while (scanner.nextKey()) {
        if (scanner.keyIs('resourceVersion')) resourceVersion = scanner.readString();
        else if (scanner.keyIs('continue')) cont = scanner.readString();
        else scanner.skipValue();
      }
    } else if (scanner.keyIs('items')) {
      items = [];
      if (scanner.takeNull()) continue;
      scanner.enterArray();
      while (scanner.nextElement()) items.push(scan(scanner).object);
    } else {
      scanner.skipValue();
    }
  }
  scanner.finish();
  // Detached: the reflector keeps the list's resourceVersion, which must not keep the page alive.
  const page: ListPage<T> = {
    items,
    resourceVersion: resourceVersion === undefined ? '' : detach(resourceVersion),
  };
  if (cont) page.continue = cont;
  return page;
}
