import { request, type IncomingMessage } from 'node:http';
import type { KubeSim } from '../../src/index.js';

/** What a {@link SlowWatch} keeps of each event (the objects themselves are dropped to stay small). */
export interface SlowWatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  /** `namespace/name` (or `name`); '' for bookmarks. */
  key: string;
  resourceVersion: string;
  initialEventsEnd: boolean;
}

/** Options of {@link openSlowWatch}. */
export interface SlowWatchOptions {
  /** Pause reading for `pauseMs` after every this many bytes. Default 1 MiB. */
  bytesPerPause?: number;
  /** How long each pause lasts. Default 40 ms (so at most ~25 MB/s). */
  pauseMs?: number;
  /** Start paused: read nothing until `resume()`. Default false. */
  paused?: boolean;
}

/** A watch read deliberately slowly over plain HTTP, keeping a light record of each event. */
export interface SlowWatch {
  readonly status: number;
  readonly events: SlowWatchEvent[];
  /** Bytes read so far. */
  readonly bytes: number;
  /** Resolves when the server ends the stream (true) or the connection breaks (false). */
  readonly ended: Promise<boolean>;
  /** Starts (or goes on) reading at the configured slow pace. */
  resume(): void;
  close(): void;
}

interface RawEvent {
  type: SlowWatchEvent['type'];
  object: {
    metadata?: {
      name?: string;
      namespace?: string;
      resourceVersion?: string;
      annotations?: Record<string, string>;
    };
  };
}

/** Opens `path` (with `watch=true`) and reads it slowly: a slow client, for backpressure tests. */
export function openSlowWatch(
  sim: Pick<KubeSim, 'url' | 'token'>,
  path: string,
  options: SlowWatchOptions = {},
): Promise<SlowWatch> {
  const bytesPerPause = options.bytesPerPause ?? 1024 * 1024;
  const pauseMs = options.pauseMs ?? 40;
  return new Promise((resolve, reject) => {
    const events: SlowWatchEvent[] = [];
    let bytes = 0;
    let sincePause = 0;
    let held = options.paused ?? false;
    let settle: (clean: boolean) => void = () => undefined;
    const ended = new Promise<boolean>((r) => (settle = r));
    const req = request(`${sim.url}${path}`, { headers: { authorization: `Bearer ${sim.token}` } });
    req.on('response', (res: IncomingMessage) => {
      let buffer = '';
      res.setEncoding('utf8');
      if (held) res.pause();
      res.on('data', (chunk: string) => {
        bytes += Buffer.byteLength(chunk);
        sincePause += Buffer.byteLength(chunk);
        buffer += chunk;
        let start = 0;
        let nl: number;
        while ((nl = buffer.indexOf('\n', start)) >= 0) {
          const line = buffer.slice(start, nl);
          start = nl + 1;
          if (line.trim() === '') continue;
          const raw = JSON.parse(line) as RawEvent;
          const meta = raw.object.metadata ?? {};
          events.push({
            type: raw.type,
            key:
              raw.type === 'BOOKMARK' || raw.type === 'ERROR'
                ? ''
                : meta.namespace
                  ? `${meta.namespace}/${meta.name ?? ''}`
                  : (meta.name ?? ''),
            resourceVersion: meta.resourceVersion ?? '',
            initialEventsEnd: meta.annotations?.['k8s.io/initial-events-end'] === 'true',
          });
        }
        buffer = buffer.slice(start);
        if (sincePause >= bytesPerPause) {
          sincePause = 0;
          res.pause();
          setTimeout(() => {
            if (!held) res.resume();
          }, pauseMs);
        }
      });
      res.on('end', () => settle(true));
      res.on('error', () => settle(false));
      res.on('close', () => settle(res.complete));
      // A paused response does not report its socket's end: the request does.
      req.on('close', () => settle(res.complete));
      resolve({
        status: res.statusCode ?? 0,
        events,
        get bytes() {
          return bytes;
        },
        ended,
        resume() {
          held = false;
          res.resume();
        },
        close: () => req.destroy(),
      });
    });
    req.on('error', (err) => {
      settle(false);
      reject(err);
    });
    req.end();
  });
}
