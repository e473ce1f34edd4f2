import type { Socket } from 'socket.io';

/** What a socket has been given but not yet written to its peer. */
export interface SocketBacklog {
  /** Packets waiting in engine.io's write buffer (the transport is still busy with earlier ones). */
  messages: number;
  /** Bytes of those packets plus bytes the websocket has queued but the kernel has not accepted. */
  bytes: number;
}

interface EngineConnLike {
  writeBuffer?: { data?: unknown }[];
  transport?: { socket?: { bufferedAmount?: number } };
}

/** The write buffer last measured on a connection and the bytes of its first `counted` packets. */
interface Tally {
  buffer: { data?: unknown }[];
  counted: number;
  bytes: number;
}

const tallies = new WeakMap<object, Tally>();

/**
 * Measures a socket's unsent backlog from engine.io's write buffer and the
 * websocket's `bufferedAmount`. A peer that stops reading makes both grow: this is
 * what the slow-consumer bound is checked against.
 *
 * It is checked before every envelope, so the write buffer's bytes are tallied
 * incrementally: engine.io only appends to that array and swaps in a new one when it
 * flushes (or closes), so only the packets appended since the last call are counted
 * (amortised O(1) instead of O(buffer) per envelope).
 */
export function socketBacklog(socket: Socket): SocketBacklog {
  const conn = socket.conn as unknown as EngineConnLike;
  const buffer = conn.writeBuffer ?? [];
  let tally = tallies.get(conn);
  if (!tally || tally.buffer !== buffer || tally.counted > buffer.length) {
    tally = { buffer, counted: 0, bytes: 0 };
    tallies.set(conn, tally);
  }
  for (; tally.counted < buffer.length; tally.counted++) {
    const data = buffer[tally.counted]?.data;
    if (typeof data === 'string') tally.bytes += data.length;
  }
  return { messages: buffer.length, bytes: tally.bytes + (conn.transport?.socket?.bufferedAmount ?? 0) };
}
