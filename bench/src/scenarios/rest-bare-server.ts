/**
 * The REST ceiling: a plain Fastify server (no Nest, no auth, no Redis, no helmet or
 * CORS) answering the gateway's exact bytes from memory. Argument: JSON
 * `{gateway, headers, paths}`; at start it GETs each path from the gateway once
 * (identity coding) and then answers `GET <path>` (the URL as sent, query string
 * included) with those bytes and the gateway's content type, anything else 404.
 * Prints `{"event":"bare-ready","port":N}`; stops on SIGTERM.
 */
import Fastify from 'fastify';

interface Options {
  gateway: string;
  headers: Record<string, string>;
  paths: string[];
}

const options = JSON.parse(process.argv[2] ?? '{}') as Options;
const bodies = new Map<string, Buffer>();
for (const path of options.paths) {
  const res = await fetch(`${options.gateway}${path}`, {
    headers: { ...options.headers, 'accept-encoding': 'identity' },
  });
  if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status}`);
  bodies.set(path, Buffer.from(await res.arrayBuffer()));
}

const app = Fastify({ logger: false });
app.get('/*', (request, reply) => {
  const body = bodies.get(request.url);
  if (!body) return reply.code(404).send();
  return reply.header('content-type', 'application/json; charset=utf-8').send(body);
});
await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
const port = typeof address === 'object' && address ? address.port : 0;
process.stdout.write(`${JSON.stringify({ event: 'bare-ready', port })}\n`);
process.once('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});
