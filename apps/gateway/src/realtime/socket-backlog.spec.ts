import { describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io';
import { socketBacklog } from './socket-backlog.js';

/** The part of an engine.io connection `socketBacklog` reads, as engine.io mutates it. */
function fakeSocket(bufferedAmount = 0): { socket: Socket; conn: { writeBuffer: { data?: unknown }[] } } {
  const conn = { writeBuffer: [] as { data?: unknown }[], transport: { socket: { bufferedAmount } } };
  return { socket: { conn } as unknown as Socket, conn };
}

describe('socketBacklog', () => {
  it('counts packets and string bytes appended since the last call, plus the websocket bufferedAmount', () => {
    const { socket, conn } = fakeSocket(7);
    expect(socketBacklog(socket)).toEqual({ messages: 0, bytes: 7 });
    conn.writeBuffer.push({ data: 'abcd' }, { data: Buffer.from('binary') }, {});
    expect(socketBacklog(socket)).toEqual({ messages: 3, bytes: 11 });
    conn.writeBuffer.push({ data: 'xy' });
    expect(socketBacklog(socket)).toEqual({ messages: 4, bytes: 13 });
  });

  it('starts over when engine.io swaps in a new write buffer (flush or close)', () => {
    const { socket, conn } = fakeSocket();
    conn.writeBuffer.push({ data: 'aaaa' }, { data: 'bb' });
    expect(socketBacklog(socket)).toEqual({ messages: 2, bytes: 6 });
    conn.writeBuffer = [{ data: 'c' }];
    expect(socketBacklog(socket)).toEqual({ messages: 1, bytes: 1 });
    conn.writeBuffer = [];
    expect(socketBacklog(socket)).toEqual({ messages: 0, bytes: 0 });
  });
});
