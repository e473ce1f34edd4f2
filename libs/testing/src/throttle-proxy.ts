import { createServer, connect as connectTcp, type Server, type Socket } from 'node:net';

/** A TCP proxy whose clients read what the server sends at a bounded rate. */
export interface ThrottleProxy {
  /** `http://127.0.0.1:<port>`: point an HTTP or Socket.IO client here instead of at the target. */
  url: string;
  port: number;
  /** Bytes delivered to clients so far (server -> client). */
  readonly bytesDelivered: number;
  /** Changes the rate of every connection, open ones included (e.g. a client loads fast, then its link slows down). */
  setBytesPerSecond(bytesPerSecond: number): void;
  close(): Promise<void>;
}

/** Options of {@link startThrottleProxy}. */
export interface ThrottleProxyOptions {
  /** Where connections go, e.g. a gateway's port on 127.0.0.1. */
  targetPort: number;
  targetHost?: string;
  /** Server -> client bytes per second per connection (client -> server is not throttled). */
  bytesPerSecond: number;
  /** Delivery period. Default 50 ms. */
  tickMs?: number;
}

/**
 * A slow reader on the wire: for every connection, what the target sends is read at
 * most `bytesPerSecond`, so the target's socket write buffers fill as they would for
 * a client on a slow link (the proxy stops reading the target while it holds more
 * than a second's worth). What the client sends passes through at once.
 */
export async function startThrottleProxy(options: ThrottleProxyOptions): Promise<ThrottleProxy> {
  const tickMs = options.tickMs ?? 50;
  let perTick = 1;
  let highWater = 1;
  const setRate = (bytesPerSecond: number): void => {
    perTick = Math.max(1, Math.floor((bytesPerSecond * tickMs) / 1000));
    highWater = Math.max(perTick, bytesPerSecond);
  };
  setRate(options.bytesPerSecond);
  const pairs = new Set<Socket>();
  let delivered = 0;

  const server: Server = createServer((client) => {
    const upstream = connectTcp({ port: options.targetPort, host: options.targetHost ?? '127.0.0.1' });
    pairs.add(client).add(upstream);
    const queue: Buffer[] = [];
    let queued = 0;
    let ended = false;
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      queue.push(chunk);
      queued += chunk.length;
      if (queued > highWater) upstream.pause();
    });
    upstream.on('end', () => (ended = true));
    const timer = setInterval(() => {
      let budget = perTick;
      while (budget > 0 && queue.length > 0) {
        const head = queue[0] as Buffer;
        const part = head.subarray(0, budget);
        if (part.length === head.length) queue.shift();
        else queue[0] = head.subarray(budget);
        queued -= part.length;
        budget -= part.length;
        delivered += part.length;
        client.write(part);
      }
      if (queued <= highWater / 2 && upstream.isPaused()) upstream.resume();
      if (ended && queue.length === 0) client.end();
    }, tickMs);
    const close = (): void => {
      clearInterval(timer);
      client.destroy();
      upstream.destroy();
      pairs.delete(client);
      pairs.delete(upstream);
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', () => {
      if (queue.length === 0) close();
      else ended = true;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('throttle proxy: no address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    port: address.port,
    get bytesDelivered() {
      return delivered;
    },
    setBytesPerSecond: setRate,
    async close() {
      for (const s of pairs) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
