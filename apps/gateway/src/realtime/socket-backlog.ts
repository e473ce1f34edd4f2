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

/**
 * Measures a socket's unsent backlog from engine.io's write buffer and the
 * websocket's `bufferedAmount`. A peer that stops reading makes both grow: this is
 * what the slow-consumer bound is checked against.
 */
export function socketBacklog(socket: Socket): SocketBacklog {
  const conn = socket.conn as unknown as EngineConnLike;
  const buffer = conn.writeBuffer ?? [];
  let bytes = conn.transport?.socket?.bufferedAmount ?? 0;
  for (const packet of buffer) {
    if (typeof packet.data === 'string') bytes += packet.data.length;
  }
  return { messages: buffer.length, bytes };
}
