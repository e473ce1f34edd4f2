/**
 * The fan-out baseline: a bare Socket.IO server (no Redis, no auth, no per-socket
 * bookkeeping) that speaks just enough of the gateway's protocol for the client
 * fleet: `GET /api/v1/clusters/<c>/nodes` answers an empty snapshot at seq 0,
 * `subscribe` joins the cluster's room and acks `{ok: true, seq: 0}`, and
 * `POST /_bench/broadcast` (a JSON array of envelopes) emits each one to the room,
 * ten per event-loop turn, answering once all are handed to the sockets;
 * `POST /_bench/broadcast-batches` (a JSON array of `batch` messages) emits each as a
 * `batch` event to its cluster's room, one per event-loop turn.
 * Prints `{"event":"bare-ready","port":N}`; stops on SIGTERM.
 */
import { createServer, type IncomingMessage } from 'node:http';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Server } from 'socket.io';

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const http = createServer((req, res) => {
  const list = /^\/api\/v1\/clusters\/([^/?]+)\/nodes/.exec(req.url ?? '');
  if (req.method === 'GET' && list) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        cluster: decodeURIComponent(list[1] as string),
        seq: 0,
        epoch: 1,
        total: 0,
        items: [],
      }),
    );
    return;
  }
  if (req.method === 'POST' && req.url === '/_bench/broadcast') {
    void body(req).then(async (text) => {
      const envelopes = JSON.parse(text) as { cluster: string; type: string }[];
      for (let i = 0; i < envelopes.length; i++) {
        const envelope = envelopes[i] as { cluster: string; type: string };
        nodes.to(envelope.cluster).emit(envelope.type, envelope);
        if (i % 10 === 9) await nextTurn();
      }
      res.writeHead(204).end();
    });
    return;
  }
  if (req.method === 'POST' && req.url === '/_bench/broadcast-batches') {
    void body(req).then(async (text) => {
      for (const batch of JSON.parse(text) as { cluster: string }[]) {
        nodes.to(batch.cluster).emit('batch', batch);
        await nextTurn();
      }
      res.writeHead(204).end();
    });
    return;
  }
  res.writeHead(404).end();
});
const io = new Server(http, { transports: ['websocket'] });
const nodes = io.of('/nodes');
nodes.on('connection', (socket) => {
  socket.on('subscribe', (message: { cluster?: unknown }, ack: (reply: unknown) => void) => {
    const cluster = typeof message?.cluster === 'string' ? message.cluster : '';
    void socket.join(cluster);
    ack({ ok: true, seq: 0 });
  });
});
http.listen(0, '127.0.0.1', () => {
  const address = http.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ event: 'bare-ready', port })}\n`);
});
process.once('SIGTERM', () => {
  void io.close(() => process.exit(0));
});
