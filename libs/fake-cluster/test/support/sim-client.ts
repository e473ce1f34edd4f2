import { request, type IncomingMessage } from 'node:http';
import { z } from 'zod';
import type { KubeSim } from '../../src/index.js';

/** metav1.Status as every kube-sim error must be shaped (decoded strictly in tests). */
export const StatusSchema = z.object({
  kind: z.literal('Status'),
  apiVersion: z.literal('v1'),
  metadata: z.object({}).passthrough(),
  status: z.enum(['Success', 'Failure']),
  message: z.string().optional(),
  reason: z.string().optional(),
  details: z
    .object({
      name: z.string().optional(),
      group: z.string().optional(),
      kind: z.string().optional(),
      uid: z.string().optional(),
      causes: z
        .array(z.object({ reason: z.string().optional(), message: z.string(), field: z.string().optional() }))
        .optional(),
      retryAfterSeconds: z.number().optional(),
    })
    .optional(),
  code: z.number().optional(),
});
export type Status = z.infer<typeof StatusSchema>;

/** A response: status code, headers, parsed JSON body (or text when not JSON). */
export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/** Minimal typed view of a list answer. */
export interface KubeList {
  kind: string;
  apiVersion: string;
  metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number };
  items: {
    metadata: { name: string; namespace?: string; resourceVersion: string; labels?: Record<string, string> };
    spec?: Record<string, unknown>;
    status?: Record<string, unknown>;
  }[];
}

/** Calls kube-sim's plain-HTTP API with its token. */
export async function api<T = unknown>(
  sim: Pick<KubeSim, 'url' | 'token'>,
  path: string,
  init: {
    method?: string;
    body?: unknown;
    contentType?: string;
    accept?: string;
    token?: string | null;
  } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = {};
  if (init.token !== null) headers['authorization'] = `Bearer ${init.token ?? sim.token}`;
  if (init.accept) headers['accept'] = init.accept;
  let body: string | undefined;
  if (init.body !== undefined) {
    body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
    headers['content-type'] = init.contentType ?? 'application/json';
  }
  const res = await fetch(`${sim.url}${path}`, { method: init.method ?? 'GET', headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body: parsed as T };
}

/** GET a list and return it (asserting 200). */
export async function list(sim: Pick<KubeSim, 'url' | 'token'>, path: string): Promise<KubeList> {
  const res = await api<KubeList>(sim, path);
  if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

/** One event of a watch stream. */
export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: {
    kind?: string;
    metadata: {
      name: string;
      resourceVersion: string;
      labels?: Record<string, string>;
      annotations?: Record<string, string>;
    };
    [key: string]: unknown;
  };
}

/** An open watch collecting its events. */
export interface OpenWatch {
  readonly status: number;
  readonly events: WatchEvent[];
  /** Resolves when the server ends the stream (true) or the connection breaks (false). */
  readonly ended: Promise<boolean>;
  close(): void;
}

/** Opens a watch (`path` includes `watch=true`) over plain HTTP and collects its NDJSON events. */
export function openWatch(
  sim: Pick<KubeSim, 'url' | 'token'>,
  path: string,
  accept?: string,
): Promise<OpenWatch> {
  return new Promise((resolve, reject) => {
    const events: WatchEvent[] = [];
    let settleEnded: (clean: boolean) => void = () => undefined;
    const ended = new Promise<boolean>((r) => (settleEnded = r));
    const req = request(
      `${sim.url}${path}`,
      { headers: { authorization: `Bearer ${sim.token}`, ...(accept ? { accept } : {}) } },
      (res: IncomingMessage) => {
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let nl: number;
          while ((nl = buffer.indexOf('\n')) >= 0) {
            const line = buffer.slice(0, nl).trim();
            buffer = buffer.slice(nl + 1);
            if (line) events.push(JSON.parse(line) as WatchEvent);
          }
        });
        res.on('end', () => settleEnded(true));
        res.on('error', () => settleEnded(false));
        res.on('close', () => settleEnded(res.complete));
        resolve({ status: res.statusCode ?? 0, events, ended, close: () => req.destroy() });
      },
    );
    req.on('error', (err) => {
      settleEnded(false);
      reject(err);
    });
    req.end();
  });
}
