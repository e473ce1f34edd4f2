import { Agent, request, type IncomingHttpHeaders } from 'node:http';

/** GETs `url` and returns its parsed JSON body; throws with the status and body on anything but 200. */
export async function getJson<T>(url: string, headers: Record<string, string>): Promise<T> {
  const res = await fetch(url, { headers: { accept: 'application/json', ...headers } });
  if (res.status !== 200)
    throw new Error(`GET ${url}: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
  return (await res.json()) as T;
}

/** What {@link getRaw} received. */
export interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  /** Bytes as sent (still coded: not decompressed, not parsed). */
  bytes: number;
  /** Request sent -> last byte received. */
  ms: number;
}

const keepAlive = new Agent({ keepAlive: true });

/**
 * One GET over a keep-alive connection, timed to the last byte received, the body
 * neither decoded nor parsed (fetch would decompress it): what the server and the
 * wire cost, apart from what the client does with the bytes.
 */
export function getRaw(url: string, headers: Record<string, string>): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request(url, { headers, agent: keepAlive }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          bytes,
          ms: performance.now() - started,
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
