import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { RoundRobinProxy, type ProxyBackend } from '../src/round-robin-proxy.js';

/** Upgraded sockets of the test backends (an http.Server no longer tracks them, so close() would wait for them). */
const upgraded = new Set<Duplex>();

/** A backend that answers with its id and the headers it saw, and echoes bytes after an upgrade. */
async function startBackend(id: string): Promise<{ server: Server; backend: ProxyBackend }> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ id, method: req.method, url: req.url, headers: req.headers, body }));
    });
  });
  server.on('upgrade', (_req, socket) => {
    upgraded.add(socket);
    socket.on('close', () => upgraded.delete(socket));
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Backend: ${id}\r\n\r\n`,
    );
    socket.on('data', (d: Buffer) => socket.write(`${id}:${d.toString()}`));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('no address');
  return { server, backend: { host: '127.0.0.1', port: address.port } };
}

/** Sends raw bytes to `port` and resolves with everything the server wrote before it closed. */
function rawExchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    // The server may close while the request is still being written: what it answered is what counts.
    socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? undefined : reject(err)));
    socket.on('close', () => resolve(answer));
  });
}

type Echo = { id: string; method: string; url: string; headers: Record<string, string>; body: string };

describe('RoundRobinProxy', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });
  const closeServer = (s: Server) => () =>
    new Promise<void>((r) => {
      s.close(() => r());
      s.closeAllConnections();
      for (const u of upgraded) u.destroy();
    });

  async function setup(ids: string[]) {
    const backends = await Promise.all(ids.map(startBackend));
    for (const b of backends) closers.push(closeServer(b.server));
    const proxy = await RoundRobinProxy.start({ backends: backends.map((b) => b.backend) });
    closers.push(() => proxy.close());
    return { proxy, backends, base: `http://127.0.0.1:${proxy.port}` };
  }

  it('sends each request to the next backend in turn (no stickiness), keeping Host and adding x-forwarded-*', async () => {
    const { base, proxy, backends } = await setup(['a', 'b', 'c']);
    const seen: string[] = [];
    for (let i = 0; i < 6; i += 1) {
      const res = await fetch(`${base}/api/x?i=${i}`, { headers: { cookie: 'io=sticky?' } });
      const echo = (await res.json()) as Echo;
      seen.push(echo.id);
      expect(echo.url).toBe(`/api/x?i=${i}`);
      expect(echo.headers['host']).toBe(`127.0.0.1:${proxy.port}`);
      expect(echo.headers['x-forwarded-for']).toBe('127.0.0.1');
      expect(echo.headers['x-forwarded-proto']).toBe('http');
    }
    expect(seen).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
    expect(proxy.stats().requests).toEqual(
      Object.fromEntries(backends.map((b) => [`127.0.0.1:${b.backend.port}`, 2])),
    );
  });

  it('forwards request bodies and status codes', async () => {
    const { base } = await setup(['a']);
    const res = await fetch(`${base}/p`, {
      method: 'POST',
      body: 'hello',
      headers: { 'content-type': 'text/plain' },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Echo).body).toBe('hello');
  });

  it('skips a backend that refuses the connection, for GET and for upgrades', async () => {
    const { base, backends } = await setup(['a', 'b']);
    const first = backends[0];
    if (!first) throw new Error('no backend');
    await closeServer(first.server)();
    const ids = [];
    for (let i = 0; i < 4; i += 1) ids.push(((await (await fetch(`${base}/`)).json()) as Echo).id);
    expect(ids).toEqual(['b', 'b', 'b', 'b']);
    for (let i = 0; i < 2; i += 1) expect((await upgradeAndEcho(base, 'ping')).reply).toBe('b:ping');
  });

  it('tunnels an upgrade: 101 from the backend, then bytes both ways; upgrades rotate too', async () => {
    const { base } = await setup(['a', 'b']);
    const one = await upgradeAndEcho(base, 'x');
    const two = await upgradeAndEcho(base, 'y');
    expect([one.head.split('\r\n')[0], two.head.split('\r\n')[0]]).toEqual([
      'HTTP/1.1 101 Switching Protocols',
      'HTTP/1.1 101 Switching Protocols',
    ]);
    expect([one.reply, two.reply]).toEqual(['a:x', 'b:y']);
  });

  it('answers 503 while it has no backend', async () => {
    const proxy = await RoundRobinProxy.start();
    closers.push(() => proxy.close());
    const res = await fetch(`http://127.0.0.1:${proxy.port}/api/v1/clusters`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });
  });

  it('answers malformed requests like the gateway (JSON 400 / 431), never with an empty reply', async () => {
    const { proxy } = await setup(['a']);
    const cases: [string, string, number][] = [
      ['an over-long URL', `GET /api/${'x'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 431],
      ['a control byte in a header', 'GET / HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0001b\r\n\r\n', 400],
      [
        '4,000 headers',
        `GET / HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 4_000 }, (_, i) => `X-H${i}: v`).join('\r\n')}\r\n\r\n`,
        431,
      ],
      [
        'a bad chunk',
        'POST /api/v1/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n',
        400,
      ],
    ];
    for (const [what, bytes, status] of cases) {
      const answer = await rawExchange(proxy.port, bytes);
      expect(answer.split('\r\n')[0], what).toBe(
        `HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}`,
      );
      const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { statusCode: number };
      expect(body.statusCode, what).toBe(status);
    }
  });
});

/** Sends a websocket-style upgrade through the proxy, then `payload`; resolves with the 101 head and the echo. */
function upgradeAndEcho(base: string, payload: string): Promise<{ head: string; reply: string }> {
  const { port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let data = '';
    let head: string | undefined;
    socket.on('connect', () =>
      socket.write(
        'GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
      ),
    );
    socket.on('data', (d: Buffer) => {
      data += d.toString();
      if (head === undefined) {
        const end = data.indexOf('\r\n\r\n');
        if (end < 0) return;
        head = data.slice(0, end);
        data = data.slice(end + 4);
        socket.write(payload);
      }
      if (head !== undefined && data.length > 0) {
        socket.destroy();
        resolve({ head, reply: data });
      }
    });
    socket.on('error', reject);
    setTimeout(() => {
      socket.destroy();
      reject(new Error(`no echo; got ${JSON.stringify(data)}`));
    }, 10_000);
  });
}
